locals {
  # A wildcard bind address is reachable from the host on loopback.
  host = contains(["0.0.0.0", "::"], var.bind_address) ? "127.0.0.1" : var.bind_address
  # IPv6 literals need brackets in URLs and host:port pairs.
  url_host = strcontains(local.host, ":") ? "[${local.host}]" : local.host
  port     = docker_container.this.ports[0].external
}

output "container_id" {
  description = "ID of the PostgreSQL container."
  value       = docker_container.this.id
}

output "container_name" {
  description = "Name of the PostgreSQL container."
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

output "internal_host" {
  description = "Host name on the environment's network (the alias)."
  value       = var.alias
}

output "internal_port" {
  description = "Port on the environment's network."
  value       = 5432
}

output "user" {
  description = "Superuser name."
  value       = var.user
}

output "db" {
  description = "Database name."
  value       = var.db
}

output "password" {
  description = "Password of the user."
  value       = var.password
  sensitive   = true
}

output "dsn" {
  description = "Host-side DSN (postgres://user:password@host:port/db?sslmode=disable)."
  value       = "postgres://${var.user}:${urlencode(var.password)}@${local.url_host}:${local.port}/${var.db}?sslmode=disable"
  sensitive   = true
}

output "dsn_internal" {
  description = "Network-side DSN for containers on the same network."
  value       = "postgres://${var.user}:${urlencode(var.password)}@${var.alias}:5432/${var.db}?sslmode=disable"
  sensitive   = true
}

output "volume_name" {
  description = "Name of the data volume when durable, else null."
  value       = local.volume
}
