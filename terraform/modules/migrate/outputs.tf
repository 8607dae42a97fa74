output "container_id" {
  description = "ID of the (exited) migration job container."
  value       = docker_container.this.id
}

output "container_name" {
  description = "Name of the migration job container."
  value       = docker_container.this.name
}

output "exit_code" {
  description = "Exit code of the job (0: migrated)."
  value       = docker_container.this.exit_code
}

output "logs" {
  description = "What the job printed (stdout and stderr), e.g. \"migrated to version N\"."
  value       = docker_container.this.container_logs
}
