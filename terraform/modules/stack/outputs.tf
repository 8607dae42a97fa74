# Outputs of the stack: what both roots output under the same names (docs/interfaces.md).

output "env_id" {
  description = "Environment id (the dsenv.env label on every object)."
  value       = var.name_prefix
}

output "network_name" {
  description = "Docker network the containers share."
  value       = local.network_name
}

output "postgres_host" {
  description = "Host-side PostgreSQL address."
  value       = module.postgres.host
}

output "postgres_port" {
  description = "Host-side PostgreSQL port."
  value       = module.postgres.port
}

output "postgres_user" {
  description = "PostgreSQL user."
  value       = module.postgres.user
}

output "postgres_db" {
  description = "PostgreSQL database."
  value       = module.postgres.db
}

output "postgres_dsn" {
  description = "Host-side PostgreSQL DSN (postgres://user:password@127.0.0.1:port/db?sslmode=disable)."
  value       = module.postgres.dsn
  sensitive   = true
}

output "postgres_dsn_internal" {
  description = "PostgreSQL DSN on the environment's network (host postgres, port 5432)."
  value       = module.postgres.dsn_internal
  sensitive   = true
}

output "redis_host" {
  description = "Host-side Redis address."
  value       = module.redis.host
}

output "redis_port" {
  description = "Host-side Redis port."
  value       = module.redis.port
}

output "redis_addr" {
  description = "Host-side Redis address as host:port."
  value       = module.redis.addr
}

output "redis_password" {
  description = "Redis password."
  value       = module.redis.password
  sensitive   = true
}

output "redis_url" {
  description = "Host-side Redis URL (redis://default:password@host:port/0)."
  value       = module.redis.url
  sensitive   = true
}

output "datastorage_url" {
  description = "Host-side base URL of the DS API (GET <url>/readyz answers 200)."
  value       = module.datastorage.url
}

output "datastorage_health_url" {
  description = "Host-side base URL of the DS health endpoints (/healthz, /readyz)."
  value       = module.datastorage.health_url
}

output "datastorage_metrics_url" {
  description = "Host-side URL of the DS Prometheus metrics."
  value       = module.datastorage.metrics_url
}

output "api_token" {
  description = "Bearer token the DS API accepts."
  value       = var.api_token
  sensitive   = true
}

output "containers" {
  description = "Containers of the environment: service => {name, id} (migrate is the exited job; kube_auth with the stand-in, kube_api and etcd instead with auth_backend = \"kube\")."
  value = merge({
    postgres    = { name = module.postgres.container_name, id = module.postgres.container_id }
    redis       = { name = module.redis.container_name, id = module.redis.container_id }
    migrate     = { name = module.migrate.container_name, id = module.migrate.container_id }
    datastorage = { name = module.datastorage.container_name, id = module.datastorage.container_id }
    }, !local.standin ? {} : {
    kube_auth = { name = local.standin_name, id = local.standin_id }
    }, { for k, v in {
      kube_api = { name = one(module.kubeapi[*].apiserver_container_name), id = one(module.kubeapi[*].apiserver_container_id) }
      etcd     = { name = one(module.kubeapi[*].etcd_container_name), id = one(module.kubeapi[*].etcd_container_id) }
  } : k => v if var.auth_backend == "kube" })
}

output "denied_token" {
  description = "A token that authenticates (denied_username) but is denied every access check: the DS answers 403."
  value       = local.denied_token
  sensitive   = true
}

output "api_username" {
  description = "Identity api_token (with the kube backend, env.Token) authenticates as: system:serviceaccount:<ns>:gateway."
  value       = local.api_username
}

output "denied_username" {
  description = "Identity denied_token authenticates as."
  value       = local.denied_username
}

output "kube_namespace" {
  description = "Namespace of the DS's access checks (its POD_NAMESPACE)."
  value       = var.kube_namespace
}

output "signer_cert_dir" {
  description = "Directory inside the DS container holding tls.crt and tls.key."
  value       = module.datastorage.signer_cert_dir
}

output "labels" {
  description = "The labels every object carries (dsenv.env, dsenv.owner, dsenv.created, dsenv.persistent when persistent, and var.labels): for objects the caller creates, such as the shared root's data volumes."
  value       = local.labels
}

output "datastorage_config" {
  description = "The DS config.yaml as rendered (no secrets)."
  value       = module.datastorage.config_yaml
}

output "auth_backend" {
  description = "What answers the DS's reviews: \"standin\" or \"kube\"."
  value       = var.auth_backend
}

output "kube_api_host_url" {
  description = "With auth_backend = \"kube\": kube-apiserver from the host (https://127.0.0.1:<port>); else null."
  value       = var.auth_backend == "kube" ? module.kubeapi[0].host_url : null
}

output "kube_admin_kubeconfig" {
  description = "With auth_backend = \"kube\": kubeconfig of the admin identity (system:masters) for kube_api_host_url, to create ServiceAccounts, bindings and tokens; else null."
  value       = var.auth_backend == "kube" ? module.kubeapi[0].admin_kubeconfig : null
  sensitive   = true
}
