output "env_id" {
  description = "Environment id (the dsenv.env label)."
  value       = module.env.env_id
}

output "datastorage_url" {
  description = "Base URL of the DS API."
  value       = module.env.datastorage_url
}

output "datastorage_health_url" {
  description = "Base URL of the DS health endpoints."
  value       = module.env.datastorage_health_url
}

output "postgres_dsn" {
  description = "Host-side PostgreSQL DSN."
  value       = module.env.postgres_dsn
  sensitive   = true
}

output "redis_url" {
  description = "Host-side Redis URL."
  value       = module.env.redis_url
  sensitive   = true
}

output "api_token" {
  description = "Bearer token the DS API accepts."
  value       = module.env.api_token
  sensitive   = true
}

output "containers" {
  description = "Containers: service => {name, id}."
  value       = module.env.containers
}
