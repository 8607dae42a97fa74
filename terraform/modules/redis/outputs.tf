locals {
  # A wildcard bind address is reachable from the host on loopback.
  host = contains(["0.0.0.0", "::"], var.bind_address) ? "127.0.0.1" : var.bind_address
  # IPv6 literals need brackets in URLs and host:port pairs.
  url_host = strcontains(local.host, ":") ? "[${local.host}]" : local.host
  port     = docker_container.this.ports[0].external
}

output "container_id" {
  description = "ID of the Redis container."
  value       = docker_container.this.id
}

output "container_name" {
  description = "Name of the Redis container."
  value       = docker_container.this.name
}

output "host" {
  description = "Host-side address to connect to."
  value       = local.host
}

output "port" {
  description = "Host-side port (the one Docker picked when host_port is 0)."
  value       = local.port
}

output "addr" {
  description = "Host-side address as host:port."
  value       = "${local.url_host}:${local.port}"
}

output "internal_addr" {
  description = "Address on the environment's network (alias:6379)."
  value       = "${var.alias}:6379"
}

output "password" {
  description = "Password clients AUTH with."
  value       = var.password
  sensitive   = true
}

output "url" {
  description = "Host-side URL (redis://default:password@host:port/0; works with go-redis and redis-cli)."
  value       = "redis://default:${urlencode(var.password)}@${local.url_host}:${local.port}/0"
  sensitive   = true
}

output "volume_name" {
  description = "Name of the data volume when durable, else null."
  value       = local.volume
}
