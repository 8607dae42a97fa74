locals {
  # A wildcard bind address is reachable from the host on loopback.
  host       = contains(["0.0.0.0", "::"], var.bind_address) ? "127.0.0.1" : var.bind_address
  url_host   = strcontains(local.host, ":") ? "[${local.host}]" : local.host
  host_ports = { for p in docker_container.this.ports : p.internal => p.external }
}

output "container_id" {
  description = "ID of the DS container."
  value       = docker_container.this.id
}

output "container_name" {
  description = "Name of the DS container."
  value       = docker_container.this.name
}

output "host" {
  description = "Host-side address of the DS."
  value       = local.host
}

output "port" {
  description = "Host-side API port."
  value       = local.host_ports[local.ports.api]
}

output "health_port" {
  description = "Host-side health port."
  value       = local.host_ports[local.ports.health]
}

output "metrics_port" {
  description = "Host-side metrics port."
  value       = local.host_ports[local.ports.metrics]
}

output "url" {
  description = "Host-side base URL of the API (GET <url>/readyz answers 200 when ready)."
  value       = "http://${local.url_host}:${local.host_ports[local.ports.api]}"
}

output "health_url" {
  description = "Host-side base URL of the health endpoints (/healthz, /readyz)."
  value       = "http://${local.url_host}:${local.host_ports[local.ports.health]}"
}

output "metrics_url" {
  description = "Host-side URL of the Prometheus metrics."
  value       = "http://${local.url_host}:${local.host_ports[local.ports.metrics]}/metrics"
}

output "internal_url" {
  description = "Base URL of the API on the environment's network."
  value       = "http://${var.alias}:${local.ports.api}"
}

output "config_yaml" {
  description = "The rendered config.yaml (holds no secret)."
  value       = local.config_yaml
}

output "preflight_logs" {
  description = "What the preflight job printed, or null without one."
  value       = length(docker_container.preflight) > 0 ? docker_container.preflight[0].container_logs : null
}

output "signer_cert_dir" {
  description = "Directory inside the container holding tls.crt and tls.key (server.signerCertDir)."
  value       = var.signer_cert_dir
}
