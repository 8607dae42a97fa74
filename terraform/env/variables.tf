# Inputs of the dsenv environment: the names are the contract (docs/interfaces.md; tfharness
# and `make up` set them). Defaults and validation live once, in modules/stack (its README
# lists them): null here means "the stack's default".

variable "name_prefix" {
  description = "Unique name of this environment: prefix of every Docker object's name and value of the dsenv.env label."
  type        = string
}

variable "owner" {
  description = "Value of the dsenv.owner label: <pid>@<hostname> of the creating process, manual@<hostname> for a hand-made environment."
  type        = string
}

variable "created" {
  description = "Value of the dsenv.created label: unix seconds when the environment was first applied. Set once by the caller and kept (changing it replaces every object)."
  type        = string
}

variable "labels" {
  description = "Extra labels added to every container, network and volume. A change replaces the containers (the provider cannot relabel one) but never a data volume: volumes ignore label changes."
  type        = map(string)
  default     = null
}

variable "postgres_image" {
  description = "PostgreSQL image: the local dsenv/postgres:15, or an official one such as postgres:16-alpine."
  type        = string
  default     = null
}

variable "redis_image" {
  description = "Redis image: the local dsenv/redis:7, or an official one such as redis:7-alpine."
  type        = string
  default     = null
}

variable "datastorage_image" {
  description = "Data Storage image: the reference dsenv/datastorage:latest or the real DS image."
  type        = string
  default     = null
}

variable "migrate_image" {
  description = "Migration job image (dsenv/migrate:latest)."
  type        = string
  default     = null
}

variable "pull_images" {
  description = "Pull images from their registry instead of requiring them locally (only where a registry is reachable)."
  type        = bool
  default     = null
}

variable "postgres_password" {
  description = "PostgreSQL password, at least 16 characters, no whitespace, quotes or backslashes. No default: generate one per environment (PostgreSQL takes it only when its data directory is first initialised)."
  type        = string
  sensitive   = true
}

variable "redis_password" {
  description = "Redis password (requirepass), at least 16 characters, no whitespace, quotes or backslashes. No default: generate one per environment."
  type        = string
  sensitive   = true
}

variable "api_token" {
  description = "Bearer token the DS API accepts, at least 16 printable ASCII characters. No default: generate one per environment."
  type        = string
  sensitive   = true
}

variable "postgres_user" {
  description = "PostgreSQL user the DS and the migrations use."
  type        = string
  default     = null
}

variable "postgres_db" {
  description = "PostgreSQL database of the DS."
  type        = string
  default     = null
}

variable "postgres_durable" {
  description = "true: PostgreSQL data (and Redis' append-only file, see redis_durable) in named volumes. false (default): tmpfs data with fsync, synchronous_commit and full_page_writes off: fast, gone with the container."
  type        = bool
  default     = null
}

variable "redis_durable" {
  description = "true: Redis keeps an append-only file in a named volume (queued dead-letter events survive container replacement). null (default): follow postgres_durable."
  type        = bool
  default     = null
}

variable "bind_address" {
  description = "Host address every published port binds to. Keep 127.0.0.1 unless the environment must be reachable from elsewhere."
  type        = string
  default     = null
}

variable "postgres_host_port" {
  description = "Host port for PostgreSQL; 0 (default) lets Docker pick a free one."
  type        = number
  default     = null
}

variable "redis_host_port" {
  description = "Host port for Redis; 0 (default) lets Docker pick a free one."
  type        = number
  default     = null
}

variable "datastorage_host_port" {
  description = "Host port for the DS API; 0 (default) lets Docker pick a free one."
  type        = number
  default     = null
}

variable "datastorage_health_host_port" {
  description = "Host port for the DS health endpoints; 0 (default) lets Docker pick a free one."
  type        = number
  default     = null
}

variable "datastorage_metrics_host_port" {
  description = "Host port for the DS metrics endpoint; 0 (default) lets Docker pick a free one."
  type        = number
  default     = null
}

variable "log_level" {
  description = "DS log level: debug, info, warn or error."
  type        = string
  default     = null
}

variable "datastorage_extra_env" {
  description = "Extra environment variables for the DS container (CONFIG_PATH is set by the module)."
  type        = map(string)
  default     = null
}

variable "datastorage_mounts" {
  description = "Host paths bind-mounted into the DS, e.g. the real DS's signing cert dir at /etc/datastorage/certs or a kubeconfig."
  type = list(object({
    source    = string
    target    = string
    read_only = optional(bool, true)
  }))
  default = null
}

variable "datastorage_file_owner" {
  description = "Numeric user id to own the uploaded secret file(s) with mode 0400. \"\" (default): root-owned, mode 0444 (read-only for everyone in the container). Docker applies an owner by resolving the container's user in the daemon host's passwd database, which fails for a scratch image with USER 65534:65534 (getent unable to find entry \"65534:65534\"), so set this only for an image whose user resolves."
  type        = string
  default     = null
}

variable "datastorage_preflight" {
  description = "Run the DS startup once as a one-shot job (`/datastorage preflight`) before the DS container, so a DS that cannot start fails the apply at once with its own log line. Turn off for an image without that mode (the real DS)."
  type        = bool
  default     = null
}

variable "datastorage_wait" {
  description = "true (default): the apply returns only once the DS is healthy (/readyz answers 200; the docker provider looks once a second). false: it returns as soon as the DS container started, and the caller waits for /readyz itself: tfharness does so by default, polling every 50 ms while it watches the containers, so a DS that exits fails Up at once with its own log lines."
  type        = bool
  default     = null
}

variable "migrations_dir" {
  description = "Host directory of goose *.sql migrations to apply instead of the ones built into the migrate image (mounted read-only). \"\" (default): the built-in ones."
  type        = string
  default     = null
}

variable "connect_attempts" {
  description = "DS startup: attempts to reach PostgreSQL and Redis before exiting 1. With connect_interval it bounds how long a broken environment takes to fail."
  type        = number
  default     = null
}

variable "connect_interval" {
  description = "DS startup: pause between connect attempts (Go duration). Short by default: the apply starts the DS only once PostgreSQL and Redis answer."
  type        = string
  default     = null
}

variable "dlq_retry_interval" {
  description = "DS dead-letter worker poll and backoff base (Go duration)."
  type        = string
  default     = null
}

variable "network_name" {
  description = "Use this existing Docker network instead of creating one: saves the docker provider's fixed 2 s network delays (2 s per apply, 2 s per plan or refresh, 4 s per destroy). The caller owns and labels it. \"\" (default): create <name_prefix>-net."
  type        = string
  default     = null
}

variable "datastorage_redis_addr" {
  description = "Redis address (host:port) the DS uses instead of this environment's Redis, e.g. an external Redis. \"\" (default): redis:6379 on the environment's network. Tests point it at a name that does not exist to check that the apply fails fast with the DS's own error."
  type        = string
  default     = null
}

variable "datastorage_stop_grace_seconds" {
  description = "Seconds the DS gets on replacement or destroy to drain its dead-letter queue before it is killed. 0 (default): killed at once (throwaway environments)."
  type        = number
  default     = null
}

variable "datastorage_healthcheck_command" {
  description = "Docker healthcheck test of the DS container; the apply waits for it. The default suits dsenv/datastorage (FROM scratch: exec form, its own probe of /readyz); for the real DS image e.g. [\"CMD\", \"curl\", \"-fsS\", \"http://127.0.0.1:8081/readyz\"]."
  type        = list(string)
  default     = null
}

variable "denied_token" {
  description = "A token the auth stand-in authenticates but denies (the DS answers 403). tfharness and `dsenv up` generate one; null: derived from api_token."
  type        = string
  default     = null
  sensitive   = true
}

variable "signer_cert_pem" {
  description = "The DS's RSA signing certificate (PEM) for <signerCertDir>/tls.crt. tfharness and `dsenv up` generate one; required for an image other than the reference DS."
  type        = string
  default     = null
  sensitive   = true
}

variable "signer_key_pem" {
  description = "RSA private key (PEM) of signer_cert_pem, for <signerCertDir>/tls.key."
  type        = string
  default     = null
  sensitive   = true
}

variable "auth_standin_image" {
  description = "Image of the Kubernetes auth stand-in (dsenv/authstandin:latest)."
  type        = string
  default     = null
}

variable "kube_namespace" {
  description = "Namespace of the stand-in's identities and of the DS's access checks (POD_NAMESPACE)."
  type        = string
  default     = null
}

variable "kube_api_url" {
  description = "Server URL of the DS's kubeconfig instead of the stand-in's (tests point it at a name that does not resolve)."
  type        = string
  default     = null
}

variable "auth_backend" {
  description = "What answers the DS's reviews: \"standin\" (default: the auth stand-in) or \"kube\" (real etcd + kube-apiserver with RBAC; tfharness.WithAuthBackend(tfharness.AuthKube) and dsenv up --auth-backend kube set it with kube_pki and bootstrap the ServiceAccounts and tokens after the apply)."
  type        = string
  default     = "standin"
  nullable    = false
}

variable "kube_pki" {
  description = "With auth_backend = \"kube\": the kubeapi module's TLS material and service-account key by variable name (internal/kubeapi.NewPKI(...).Vars(\"\"))."
  type        = map(string)
  default     = {}
  sensitive   = true
  nullable    = false
}

variable "kube_extra_args" {
  description = "With auth_backend = \"kube\": more kube-apiserver flags, appended after the module's own."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "job_logs" {
  description = "Capture the one-shot jobs' logs in the apply (modules/stack job_logs). false on Podman 4.3 (dsenv up and tfharness set it there)."
  type        = bool
  default     = true
  nullable    = false
}
