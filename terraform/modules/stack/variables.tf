# Inputs of the stack: every setting both roots (terraform/env, terraform/envs/shared) share,
# with its default and its validation, in this one place. A root passes null for a setting it
# leaves at its default (nullable = false: null means "the default here").

variable "name_prefix" {
  description = "Unique name of this environment: prefix of every Docker object's name and value of the dsenv.env label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters: a lower-case letter, then lower-case letters, digits or '-' (e.g. \"dsenv-t1a2b3\")."
  }
}

variable "owner" {
  description = "Value of the dsenv.owner label: <pid>@<hostname> of the creating process, manual@<hostname> for a hand-made environment."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$", var.owner))
    error_message = "owner must look like <pid>@<hostname> or manual@<hostname>, e.g. \"12345@ci-runner-7\"."
  }
}

variable "created" {
  description = "Value of the dsenv.created label: unix seconds when the environment was first applied. Set once by the caller and kept (changing it replaces every object)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,12}$", var.created))
    error_message = "created must be unix seconds, e.g. \"1795689600\" (date +%s); HCL has no stable clock, so the caller sets it once."
  }
}

variable "labels" {
  description = "Extra labels added to every container, network and volume. A change replaces the containers (the provider cannot relabel one) but never a data volume: volumes ignore label changes."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.labels) : can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]*$", k))])
    error_message = "labels keys must start with a letter or digit and hold only letters, digits, '.', '_', '/' or '-'."
  }

  validation {
    condition     = length(setintersection(keys(var.labels), ["dsenv.env", "dsenv.owner", "dsenv.created"])) == 0
    error_message = "labels must not set dsenv.env, dsenv.owner or dsenv.created: use name_prefix, owner and created."
  }
}

variable "postgres_image" {
  description = "PostgreSQL image: the local dsenv/postgres:15, or an official one such as postgres:16-alpine."
  type        = string
  default     = "dsenv/postgres:15"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.postgres_image))
    error_message = "postgres_image must be an image reference such as \"dsenv/postgres:15\" or \"postgres:16-alpine\"."
  }
}

variable "redis_image" {
  description = "Redis image: the local dsenv/redis:7, or an official one such as redis:7-alpine."
  type        = string
  default     = "dsenv/redis:7"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.redis_image))
    error_message = "redis_image must be an image reference such as \"dsenv/redis:7\" or \"redis:7-alpine\"."
  }
}

variable "datastorage_image" {
  description = "Data Storage image: the reference dsenv/datastorage:latest or the real DS image."
  type        = string
  default     = "dsenv/datastorage:latest"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.datastorage_image))
    error_message = "datastorage_image must be an image reference such as \"dsenv/datastorage:latest\"."
  }
}

variable "migrate_image" {
  description = "Migration job image (dsenv/migrate:latest)."
  type        = string
  default     = "dsenv/migrate:latest"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.migrate_image))
    error_message = "migrate_image must be an image reference such as \"dsenv/migrate:latest\"."
  }
}

variable "pull_images" {
  description = "Pull images from their registry instead of requiring them locally (only where a registry is reachable)."
  type        = bool
  default     = false
  nullable    = false
}

variable "postgres_password" {
  description = "PostgreSQL password, at least 16 characters, no whitespace, quotes or backslashes. No default: generate one per environment (PostgreSQL takes it only when its data directory is first initialised)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.postgres_password) >= 16
    error_message = "postgres_password must be at least 16 characters: generate one, e.g. openssl rand -hex 16."
  }

  validation {
    condition     = can(regex("^[^\\s\"'\\\\]+$", var.postgres_password))
    error_message = "postgres_password must not contain whitespace, quotes or backslashes (hex or base64 works)."
  }
}

variable "redis_password" {
  description = "Redis password (requirepass), at least 16 characters, no whitespace, quotes or backslashes. No default: generate one per environment."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.redis_password) >= 16
    error_message = "redis_password must be at least 16 characters: generate one, e.g. openssl rand -hex 16."
  }

  validation {
    condition     = can(regex("^[^\\s\"'\\\\]+$", var.redis_password))
    error_message = "redis_password must not contain whitespace, quotes or backslashes (hex or base64 works)."
  }
}

variable "api_token" {
  description = "Bearer token the DS API accepts, at least 16 printable ASCII characters. No default: generate one per environment."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.api_token) >= 16
    error_message = "api_token must be at least 16 characters: generate one, e.g. openssl rand -hex 24."
  }

  validation {
    condition     = can(regex("^[!-~]+$", var.api_token))
    error_message = "api_token must be printable ASCII without spaces."
  }
}

variable "postgres_user" {
  description = "PostgreSQL user the DS and the migrations use."
  type        = string
  default     = "datastorage"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.postgres_user))
    error_message = "postgres_user must be lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters."
  }
}

variable "postgres_db" {
  description = "PostgreSQL database of the DS."
  type        = string
  default     = "datastorage"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.postgres_db))
    error_message = "postgres_db must be lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters."
  }
}

variable "postgres_durable" {
  description = "true: PostgreSQL data (and Redis' append-only file, see redis_durable) in named volumes. false (default): tmpfs data with fsync, synchronous_commit and full_page_writes off: fast, gone with the container."
  type        = bool
  default     = false
  nullable    = false
}

variable "redis_durable" {
  description = "true: Redis keeps an append-only file in a named volume (queued dead-letter events survive container replacement). null (default): follow postgres_durable."
  type        = bool
  default     = null
}

variable "bind_address" {
  description = "Host address every published port binds to. Keep 127.0.0.1 unless the environment must be reachable from elsewhere."
  type        = string
  default     = "127.0.0.1"
  nullable    = false

  validation {
    condition     = can(cidrhost("${var.bind_address}/32", 0)) || can(cidrhost("${var.bind_address}/128", 0))
    error_message = "bind_address must be an IP address such as \"127.0.0.1\", not a host name."
  }
}

variable "postgres_host_port" {
  description = "Host port for PostgreSQL; 0 (default) lets Docker pick a free one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.postgres_host_port == floor(var.postgres_host_port) && var.postgres_host_port >= 0 && var.postgres_host_port <= 65535
    error_message = "postgres_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "redis_host_port" {
  description = "Host port for Redis; 0 (default) lets Docker pick a free one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.redis_host_port == floor(var.redis_host_port) && var.redis_host_port >= 0 && var.redis_host_port <= 65535
    error_message = "redis_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "datastorage_host_port" {
  description = "Host port for the DS API; 0 (default) lets Docker pick a free one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.datastorage_host_port == floor(var.datastorage_host_port) && var.datastorage_host_port >= 0 && var.datastorage_host_port <= 65535
    error_message = "datastorage_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "datastorage_health_host_port" {
  description = "Host port for the DS health endpoints; 0 (default) lets Docker pick a free one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.datastorage_health_host_port == floor(var.datastorage_health_host_port) && var.datastorage_health_host_port >= 0 && var.datastorage_health_host_port <= 65535
    error_message = "datastorage_health_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "datastorage_metrics_host_port" {
  description = "Host port for the DS metrics endpoint; 0 (default) lets Docker pick a free one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.datastorage_metrics_host_port == floor(var.datastorage_metrics_host_port) && var.datastorage_metrics_host_port >= 0 && var.datastorage_metrics_host_port <= 65535
    error_message = "datastorage_metrics_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "log_level" {
  description = "DS log level: debug, info, warn or error."
  type        = string
  default     = "info"
  nullable    = false

  validation {
    condition     = contains(["debug", "info", "warn", "error"], lower(var.log_level))
    error_message = "log_level must be one of debug, info, warn, error."
  }
}

variable "datastorage_extra_env" {
  description = "Extra environment variables for the DS container (CONFIG_PATH is set by the module)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.datastorage_extra_env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "datastorage_extra_env keys must be environment variable names (letters, digits, '_')."
  }

  validation {
    condition     = !contains(keys(var.datastorage_extra_env), "CONFIG_PATH")
    error_message = "datastorage_extra_env must not set CONFIG_PATH: it points at the rendered config."
  }
}

variable "datastorage_mounts" {
  description = "Host paths bind-mounted into the DS, e.g. the real DS's signing cert dir at /etc/datastorage/certs or a kubeconfig."
  type = list(object({
    source    = string
    target    = string
    read_only = optional(bool, true)
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for m in var.datastorage_mounts : startswith(m.source, "/") && startswith(m.target, "/")])
    error_message = "datastorage_mounts: source and target must be absolute paths."
  }

  validation {
    condition     = alltrue([for m in var.datastorage_mounts : !contains(["/", "/etc", "/etc/datastorage", "/etc/datastorage/secrets"], trimsuffix(m.target, "/"))])
    error_message = "datastorage_mounts: a target must not hide the uploaded config and secrets (/, /etc, /etc/datastorage, /etc/datastorage/secrets); mount below them, e.g. /etc/datastorage/certs."
  }
}

variable "datastorage_file_owner" {
  description = "Numeric user id to own the uploaded secret file(s) with mode 0400. \"\" (default): root-owned, mode 0444 (read-only for everyone in the container). Docker applies an owner by resolving the container's user in the daemon host's passwd database, which fails for a scratch image with USER 65534:65534 (getent unable to find entry \"65534:65534\"), so set this only for an image whose user resolves."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]*$", var.datastorage_file_owner))
    error_message = "datastorage_file_owner must be a numeric user id such as \"65534\", or \"\"."
  }
}

variable "datastorage_preflight" {
  description = "Run the DS startup once as a one-shot job (`/datastorage preflight`) before the DS container, so a DS that cannot start fails the apply at once with its own log line. Turn off for an image without that mode (the real DS)."
  type        = bool
  default     = true
  nullable    = false
}

variable "datastorage_wait" {
  description = "true (default): the apply returns only once the DS is healthy (/readyz answers 200; the docker provider looks once a second). false: it returns as soon as the DS container started, and the caller waits for /readyz itself: tfharness does so by default, polling every 50 ms while it watches the containers, so a DS that exits fails Up at once with its own log lines."
  type        = bool
  default     = true
  nullable    = false
}

variable "migrations_dir" {
  description = "Host directory of goose *.sql migrations to apply instead of the ones built into the migrate image (mounted read-only). \"\" (default): the built-in ones, which are the reference DS's schema: required for any other datastorage_image."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.migrations_dir == "" || startswith(var.migrations_dir, "/")
    error_message = "migrations_dir must be an absolute host path, or \"\"."
  }

  validation {
    condition     = var.migrations_dir != "" || can(regex("^dsenv/datastorage([:@].*)?$", var.datastorage_image))
    error_message = "migrations_dir is required: datastorage_image is not the reference DS (dsenv/datastorage), and the built-in migrations are the reference DS's schema. On a schema it does not know the real DS answers 202 (events queued to its dead-letter queue) to writes and 500 to queries. Set migrations_dir to that DS's own goose migrations (DSENV_MIGRATIONS_DIR, make up MIGRATIONS_DIR=...)."
  }
}

variable "connect_attempts" {
  description = "DS startup: attempts to reach PostgreSQL and Redis before exiting 1. With connect_interval it bounds how long a broken environment takes to fail."
  type        = number
  default     = 15
  nullable    = false

  validation {
    condition     = var.connect_attempts == floor(var.connect_attempts) && var.connect_attempts >= 1 && var.connect_attempts <= 1000
    error_message = "connect_attempts must be a whole number from 1 to 1000."
  }
}

variable "connect_interval" {
  description = "DS startup: pause between connect attempts (Go duration). Short by default: the apply starts the DS only once PostgreSQL and Redis answer."
  type        = string
  default     = "200ms"
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ms|s|m))+$", var.connect_interval))
    error_message = "connect_interval must be a Go duration such as \"200ms\" or \"2s\"."
  }
}

variable "dlq_retry_interval" {
  description = "DS dead-letter worker poll and backoff base (Go duration)."
  type        = string
  default     = "1s"
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ms|s|m))+$", var.dlq_retry_interval))
    error_message = "dlq_retry_interval must be a Go duration such as \"1s\" or \"500ms\"."
  }
}

variable "network_name" {
  description = "Use this existing Docker network instead of creating one: saves the docker provider's fixed 2 s network delays (2 s per apply, 2 s per plan or refresh, 4 s per destroy). The caller owns and labels it. \"\" (default): create <name_prefix>-net."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.network_name == "" || can(regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", var.network_name))
    error_message = "network_name must be a Docker network name (letters, digits, '_', '.', '-'), or \"\"."
  }
}

variable "datastorage_redis_addr" {
  description = "Redis address (host:port) the DS uses instead of this environment's Redis, e.g. an external Redis. \"\" (default): redis:6379 on the environment's network. Tests point it at a name that does not exist to check that the apply fails fast with the DS's own error."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.datastorage_redis_addr == "" || can(regex("^[A-Za-z0-9_.-]+:[0-9]{1,5}$", var.datastorage_redis_addr))
    error_message = "datastorage_redis_addr must be host:port (e.g. \"redis.example:6379\"), or \"\"."
  }
}

variable "datastorage_stop_grace_seconds" {
  description = "Seconds the DS gets on replacement or destroy to drain its dead-letter queue before it is killed. 0 (default): killed at once (throwaway environments)."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.datastorage_stop_grace_seconds == floor(var.datastorage_stop_grace_seconds) && var.datastorage_stop_grace_seconds >= 0 && var.datastorage_stop_grace_seconds <= 300
    error_message = "datastorage_stop_grace_seconds must be a whole number from 0 to 300."
  }
}

variable "datastorage_healthcheck_command" {
  description = "Docker healthcheck test of the DS container; the apply waits for it (datastorage_wait). null (default): the reference DS's own probe (/datastorage healthcheck) for dsenv/datastorage, none for any other image (the real DS has no shell and no subcommands). []: none. With none the apply does not wait: the caller polls /readyz (tfharness does; so does `dsenv up`)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.datastorage_healthcheck_command == null || try(length(var.datastorage_healthcheck_command) == 0 || (length(var.datastorage_healthcheck_command) >= 2 && contains(["CMD", "CMD-SHELL"], var.datastorage_healthcheck_command[0])), false)
    error_message = "datastorage_healthcheck_command must start with \"CMD\" (exec form) or \"CMD-SHELL\", followed by the command; [] for none; null for the default."
  }
}

variable "persistent" {
  description = "true: every object also carries dsenv.persistent=true, so dsenv sweep leaves the environment alone (the shared environment). The same as labels = {\"dsenv.persistent\" = \"true\"}."
  type        = bool
  default     = false
  nullable    = false
}

variable "postgres_volume_name" {
  description = "Named volume, created by the caller, that holds PostgreSQL's data (with postgres_durable = true). \"\" (default): the postgres module creates <name_prefix>-postgres-data itself when durable. The shared root owns its volumes to protect them with prevent_destroy."
  type        = string
  default     = ""
  nullable    = false
}

variable "redis_volume_name" {
  description = "Named volume, created by the caller, that holds Redis' append-only file (with Redis durable). \"\" (default): the redis module creates its own when durable."
  type        = string
  default     = ""
  nullable    = false
}

variable "api_token_name" {
  description = "Name of the API token in the DS's api-tokens file (the token's identity in the DS's logs)."
  type        = string
  default     = "dsenv"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.api_token_name))
    error_message = "api_token_name must be a lower-case name such as \"dsenv\" or \"shared\"."
  }
}

variable "restart_policy" {
  description = "Docker restart policy of PostgreSQL, Redis and the DS (the migration job never restarts)."
  type        = string
  default     = "no"
  nullable    = false

  validation {
    condition     = contains(["no", "on-failure", "always", "unless-stopped"], var.restart_policy)
    error_message = "restart_policy must be one of \"no\", \"on-failure\", \"always\", \"unless-stopped\"."
  }
}

variable "data_store_wait" {
  description = "true: the apply waits for PostgreSQL and Redis to be healthy before it goes on. false (default): it does not poll them (the provider polls once a second); the migration job waits for PostgreSQL itself and the DS PINGs Redis with its connect retries."
  type        = bool
  default     = false
  nullable    = false
}

variable "data_store_healthcheck_interval" {
  description = "How often Docker runs the healthchecks of PostgreSQL and Redis (each run is a docker exec). 1ms-999ms written in ms or 1s-59s written in s."
  type        = string
  default     = "1s"
  nullable    = false

  validation {
    condition     = can(regex("^([1-9][0-9]{0,2}ms|[1-5]?[0-9]s)$", var.data_store_healthcheck_interval)) && var.data_store_healthcheck_interval != "0s"
    error_message = "data_store_healthcheck_interval must be 1ms-999ms written in ms (\"200ms\") or 1s-59s written in s (\"2s\"), the form Docker reports back."
  }
}

variable "datastorage_healthcheck_interval" {
  description = "How often Docker runs the DS healthcheck (the apply waits for it unless datastorage_wait is false; the provider looks once a second). 1ms-999ms written in ms or 1s-59s written in s."
  type        = string
  default     = "250ms"
  nullable    = false

  validation {
    condition     = can(regex("^([1-9][0-9]{0,2}ms|[1-5]?[0-9]s)$", var.datastorage_healthcheck_interval)) && var.datastorage_healthcheck_interval != "0s"
    error_message = "datastorage_healthcheck_interval must be 1ms-999ms written in ms (\"250ms\") or 1s-59s written in s (\"2s\"), the form Docker reports back."
  }
}

variable "wait_for_database" {
  description = "How long the migration job waits for PostgreSQL to answer before it fails the apply with its log (Go duration)."
  type        = string
  default     = "30s"
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ms|s|m))+$", var.wait_for_database))
    error_message = "wait_for_database must be a Go duration such as \"30s\"."
  }
}

variable "auth_standin_image" {
  description = "Image of the Kubernetes auth stand-in (built by `dsenv setup`)."
  type        = string
  default     = "dsenv/authstandin:latest"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.auth_standin_image))
    error_message = "auth_standin_image must be an image reference such as \"dsenv/authstandin:latest\"."
  }
}

variable "kube_namespace" {
  description = "Namespace of the stand-in's identities and of the DS's access checks (the DS's POD_NAMESPACE): api_token is system:serviceaccount:<kube_namespace>:gateway."
  type        = string
  default     = "dsenv"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.kube_namespace))
    error_message = "kube_namespace must be a DNS label, e.g. \"dsenv\"."
  }
}

variable "denied_token" {
  description = "A token the stand-in authenticates (system:serviceaccount:<kube_namespace>:denied) and denies every access check: the DS answers 403. tfharness and `dsenv up` generate one. \"\" (default): one derived from api_token (it grants nothing)."
  type        = string
  default     = ""
  sensitive   = true
  nullable    = false

  validation {
    condition     = var.denied_token == "" || (length(var.denied_token) >= 16 && can(regex("^[!-~]+$", var.denied_token)))
    error_message = "denied_token must be at least 16 printable ASCII characters without spaces, or \"\"."
  }
}

variable "signer_cert_pem" {
  description = "The DS's signing certificate (PEM), uploaded as <signerCertDir>/tls.crt. tfharness and `dsenv up` generate one per environment (RSA). Required by the real DS; \"\" (default) only for the reference DS, which does not use it."
  type        = string
  default     = ""
  sensitive   = true
  nullable    = false

  validation {
    condition     = var.signer_cert_pem != "" || can(regex("^dsenv/datastorage([:@].*)?$", var.datastorage_image))
    error_message = "signer_cert_pem and signer_key_pem are required: datastorage_image is not the reference DS (dsenv/datastorage), and the real DS does not start without an RSA signing certificate in signerCertDir (tfharness and dsenv up generate one; for another root, e.g. openssl req -x509 -newkey rsa:2048 -nodes)."
  }
}

variable "signer_key_pem" {
  description = "RSA private key (PEM, PKCS#1 or PKCS#8) of signer_cert_pem, uploaded as <signerCertDir>/tls.key (readable by uid 65534)."
  type        = string
  default     = ""
  sensitive   = true
  nullable    = false
}

variable "kube_api_url" {
  description = "Server URL the DS's kubeconfig points at instead of the stand-in (e.g. a real kube-apiserver on the network). \"\" (default): the stand-in, http://kube-auth:8080. A name that does not resolve makes every authenticated request answer 500: tests use it to check that Up fails at once naming the stand-in."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.kube_api_url == "" || can(regex("^https?://[^ ]+$", var.kube_api_url))
    error_message = "kube_api_url must be an http:// or https:// URL, or \"\"."
  }
}

variable "auth_backend" {
  description = "What answers the DS's TokenReview and SubjectAccessReview calls: \"standin\" (default: the auth stand-in, ~2 MiB) or \"kube\" (a real etcd + kube-apiserver with RBAC, ~330 MiB and ~5 s more; needs `dsenv setup --with-kube` and kube_pki)."
  type        = string
  default     = "standin"
  nullable    = false

  validation {
    condition     = contains(["standin", "kube"], var.auth_backend)
    error_message = "auth_backend must be \"standin\" or \"kube\"."
  }
}

variable "kube_pki" {
  description = "With auth_backend = \"kube\": the kubeapi module's TLS variables by name (ca_cert_pem, tls_cert_pem, tls_key_pem, service_account_key_pem, admin_cert_pem, admin_key_pem, server_cert_pem, server_key_pem), as internal/kubeapi.NewPKI(...).Vars(\"\") makes them (tfharness does)."
  type        = map(string)
  default     = {}
  sensitive   = true
  nullable    = false

  validation {
    condition     = var.auth_backend != "kube" || length(setsubtract(["ca_cert_pem", "tls_cert_pem", "tls_key_pem", "service_account_key_pem", "admin_cert_pem", "admin_key_pem", "server_cert_pem", "server_key_pem"], keys(var.kube_pki))) == 0
    error_message = "auth_backend = \"kube\" needs kube_pki with ca_cert_pem, tls_cert_pem, tls_key_pem, service_account_key_pem, admin_cert_pem, admin_key_pem, server_cert_pem and server_key_pem (tfharness generates them: WithAuthBackend(AuthKube))."
  }
}

variable "kube_extra_args" {
  description = "With auth_backend = \"kube\": more kube-apiserver flags, appended after the module's own (e.g. [\"--v=4\"])."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "job_logs" {
  description = "true (default): the apply captures the logs of the one-shot jobs (migrations, DS preflight) to show them when a job fails. false on Podman 4.3: its log follow can miss the exit of a job that ends right after it starts and never return, hanging the apply (the jobs' logs stay in their containers)."
  type        = bool
  default     = true
  nullable    = false
}
