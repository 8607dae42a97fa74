# Outputs only the shared environment has. outputs.tf is the same file as terraform/env's
# (go test ./terraform checks it), so both roots answer to the same output names.

output "volumes" {
  description = "Named data volumes (protected by prevent_destroy)."
  value = {
    postgres = docker_volume.postgres_data.name
    redis    = docker_volume.redis_data.name
  }
}

output "datastorage_config" {
  description = "The DS config.yaml as rendered (no secrets). An output so that a plan review shows a settings change as a line diff: the uploaded file itself is masked with the secrets."
  value       = module.stack.datastorage_config
}
