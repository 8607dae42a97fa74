# Outputs: what a test needs to reach the environment. The contract: docs/interfaces.md.

output "env_id" {
  description = "Environment id (the dsenv.env label on every object)."
  value       = module.stack.env_id
}

output "network_name" {
  description = "Docker network the containers share."
  value       = module.stack.network_name
}

output "postgres_host" {
  description = "Host-side PostgreSQL address."
  value       = module.stack.postgres_host
}

output "postgres_port" {
  description = "Host-side PostgreSQL port."
  value       = module.stack.postgres_port
}

output "postgres_user" {
  description = "PostgreSQL user."
  value       = module.stack.postgres_user
}

output "postgres_db" {
  description = "PostgreSQL database."
  value       = module.stack.postgres_db
}

output "postgres_dsn" {
  description = "Host-side PostgreSQL DSN (postgres://user:password@127.0.0.1:port/db?sslmode=disable)."
  value       = module.stack.postgres_dsn
  sensitive   = true
}

output "postgres_dsn_internal" {
  description = "PostgreSQL DSN on the environment's network (host postgres, port 5432)."
  value       = module.stack.postgres_dsn_internal
  sensitive   = true
}

output "redis_host" {
  description = "Host-side Redis address."
  value       = module.stack.redis_host
}

output "redis_port" {
  description = "Host-side Redis port."
  value       = module.stack.redis_port
}

output "redis_addr" {
  description = "Host-side Redis address as host:port."
  value       = module.stack.redis_addr
}

output "redis_password" {
  description = "Redis password."
  value       = module.stack.redis_password
  sensitive   = true
}

output "redis_url" {
  description = "Host-side Redis URL (redis://default:password@host:port/0)."
  value       = module.stack.redis_url
  sensitive   = true
}

output "datastorage_url" {
  description = "Host-side base URL of the DS API (GET <url>/readyz answers 200)."
  value       = module.stack.datastorage_url
}

output "datastorage_health_url" {
  description = "Host-side base URL of the DS health endpoints (/healthz, /readyz)."
  value       = module.stack.datastorage_health_url
}

output "datastorage_metrics_url" {
  description = "Host-side URL of the DS Prometheus metrics."
  value       = module.stack.datastorage_metrics_url
}

output "api_token" {
  description = "Bearer token the DS API accepts through the auth stand-in. With auth_backend = \"kube\" the DS accepts ServiceAccount tokens instead: tfharness's env.Token, `dsenv output api_token` (minted by each dsenv up)."
  value       = module.stack.api_token
  sensitive   = true
}

output "containers" {
  description = "Containers of the environment: service => {name, id} (migrate is the exited job)."
  value       = module.stack.containers
}

output "denied_token" {
  description = "A token the auth stand-in authenticates but denies every access check: the DS answers 403 to it. With auth_backend = \"kube\": env.DeniedToken, `dsenv output denied_token`."
  value       = module.stack.denied_token
  sensitive   = true
}

output "api_username" {
  description = "Identity api_token authenticates as through the auth stand-in (system:serviceaccount:<ns>:gateway)."
  value       = module.stack.api_username
}

output "denied_username" {
  description = "Identity denied_token authenticates as."
  value       = module.stack.denied_username
}

output "kube_namespace" {
  description = "Namespace of the DS's access checks (its POD_NAMESPACE)."
  value       = module.stack.kube_namespace
}

output "signer_cert_dir" {
  description = "Directory inside the DS container holding the signing pair tls.crt and tls.key."
  value       = module.stack.signer_cert_dir
}

output "auth_backend" {
  description = "What answers the DS's reviews: \"standin\" or \"kube\"."
  value       = module.stack.auth_backend
}

output "kube_api_host_url" {
  description = "With auth_backend = \"kube\": kube-apiserver from the host; else null."
  value       = module.stack.kube_api_host_url
}

output "kube_admin_kubeconfig" {
  description = "With auth_backend = \"kube\": the admin kubeconfig for kube_api_host_url; else null."
  value       = module.stack.kube_admin_kubeconfig
  sensitive   = true
}
