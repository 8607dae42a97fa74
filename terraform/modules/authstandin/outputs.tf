output "container_id" {
  description = "ID of the stand-in container."
  value       = docker_container.this.id
}

output "container_name" {
  description = "Name of the stand-in container."
  value       = docker_container.this.name
}

output "url" {
  description = "URL on the environment's network (http://<alias>:<port>): the kubeconfig's server."
  value       = local.url
}

output "kubeconfig" {
  description = "A kubeconfig whose current context points at url (no credentials: over http the client sends none). Upload it into the DS and set KUBECONFIG to its path."
  value       = local.kubeconfig
}

output "namespace" {
  description = "Namespace the access checks are granted in: the DS's POD_NAMESPACE."
  value       = var.namespace
}

output "api_username" {
  description = "Username the API token authenticates as."
  value       = local.api_username
}

output "denied_username" {
  description = "Username the denied token authenticates as."
  value       = local.denied_username
}

output "denied_token" {
  description = "The token that authenticates but is denied every access check (403 from the DS)."
  value       = var.denied_token
  sensitive   = true
}

output "host_url" {
  description = "Host-side URL (http://127.0.0.1:<free port>) when publish is true, else null."
  value       = var.publish ? "http://${contains(["0.0.0.0", "::"], var.bind_address) ? "127.0.0.1" : (strcontains(var.bind_address, ":") ? "[${var.bind_address}]" : var.bind_address)}:${docker_container.this.ports[0].external}" : null
}
