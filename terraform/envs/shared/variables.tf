# Inputs of the persistent shared environment. Credentials have no defaults: put them in a
# git-ignored shared.tfvars (see shared.tfvars.example) or in TF_VAR_* variables.
# Validation and the defaults shared with terraform/env live once, in modules/stack (null
# here means "the stack's default"); this file holds what differs for a shared environment.

variable "name_prefix" {
  description = "Name of the environment: prefix of every Docker object's name and value of the dsenv.env label. Changing it replaces everything, the data volumes included (refused by prevent_destroy)."
  type        = string
  default     = "dsenv-shared"
}

variable "owner" {
  description = "Value of the dsenv.owner label: manual@<hostname> for a shared environment."
  type        = string
  default     = "manual@shared"

  validation {
    condition     = can(regex("^manual@[A-Za-z0-9._-]+$", var.owner))
    error_message = "owner must look like manual@<hostname> (a shared environment belongs to no process), e.g. \"manual@build-box-3\"."
  }
}

variable "created" {
  description = "Value of the dsenv.created label: unix seconds when the environment was first applied (date +%s). Set once and keep it: a new value replaces every container (the data volumes stay: they ignore label changes)."
  type        = string
}

variable "labels" {
  description = "Extra labels on every container, network and volume. A change replaces the containers, never the data volumes."
  type        = map(string)
  default     = {}
}

variable "postgres_image" {
  description = "PostgreSQL image: the local dsenv/postgres:15 (default), or postgres:16-alpine where a registry is reachable (with pull_images)."
  type        = string
  default     = null
}

variable "redis_image" {
  description = "Redis image: the local dsenv/redis:7 (default), or redis:7-alpine."
  type        = string
  default     = null
}

variable "datastorage_image" {
  description = "DS image (default dsenv/datastorage:latest). Changing it replaces only the DS container."
  type        = string
  default     = null
}

variable "migrate_image" {
  description = "Migration job image (default dsenv/migrate:latest)."
  type        = string
  default     = null
}

variable "pull_images" {
  description = "Pull the images from their registry instead of using local ones. Needs a reachable registry."
  type        = bool
  default     = null
}

variable "postgres_password" {
  description = "PostgreSQL password, at least 16 characters. No default: generate one (openssl rand -hex 16) into shared.tfvars or TF_VAR_postgres_password. PostgreSQL sets it only when the data volume is first initialised."
  type        = string
  sensitive   = true
}

variable "redis_password" {
  description = "Redis password (requirepass), at least 16 characters. No default: generate one (openssl rand -hex 16)."
  type        = string
  sensitive   = true
}

variable "api_token" {
  description = "Bearer token the DS API accepts, at least 16 characters. No default: generate one (openssl rand -hex 24)."
  type        = string
  sensitive   = true
}

variable "postgres_user" {
  description = "PostgreSQL user (default datastorage; created when the data volume is first initialised)."
  type        = string
  default     = null
}

variable "postgres_db" {
  description = "PostgreSQL database (default datastorage; created when the data volume is first initialised)."
  type        = string
  default     = null
}

variable "bind_address" {
  description = "Host address every published port binds to (default 127.0.0.1: this machine only; use the machine's own address only on a trusted network)."
  type        = string
  default     = null
}

variable "postgres_host_port" {
  description = "Fixed host port for PostgreSQL."
  type        = number

  validation {
    condition     = var.postgres_host_port >= 1
    error_message = "postgres_host_port must be a fixed port from 1 to 65535 (a shared environment keeps its ports), e.g. 15432."
  }
}

variable "redis_host_port" {
  description = "Fixed host port for Redis."
  type        = number

  validation {
    condition     = var.redis_host_port >= 1
    error_message = "redis_host_port must be a fixed port from 1 to 65535, e.g. 16379."
  }
}

variable "datastorage_host_port" {
  description = "Fixed host port for the DS API."
  type        = number

  validation {
    condition     = var.datastorage_host_port >= 1
    error_message = "datastorage_host_port must be a fixed port from 1 to 65535, e.g. 18080."
  }
}

variable "datastorage_health_host_port" {
  description = "Fixed host port for the DS health endpoints (/healthz, /readyz)."
  type        = number

  validation {
    condition     = var.datastorage_health_host_port >= 1
    error_message = "datastorage_health_host_port must be a fixed port from 1 to 65535, e.g. 18081."
  }
}

variable "datastorage_metrics_host_port" {
  description = "Fixed host port for the DS metrics endpoint."
  type        = number

  validation {
    condition     = var.datastorage_metrics_host_port >= 1
    error_message = "datastorage_metrics_host_port must be a fixed port from 1 to 65535, e.g. 19090."
  }
}

variable "restart_policy" {
  description = "Docker restart policy of PostgreSQL, Redis and the DS (the migration job never restarts)."
  type        = string
  default     = "unless-stopped"
}

variable "log_level" {
  description = "DS log level: debug, info (default), warn or error. Changing it replaces only the DS container."
  type        = string
  default     = null
}

variable "datastorage_extra_env" {
  description = "Extra environment variables for the DS container. Changing them replaces only the DS container."
  type        = map(string)
  default     = null
}

variable "datastorage_mounts" {
  description = "Host paths bind-mounted into the DS (the real DS's signing cert dir, a kubeconfig)."
  type = list(object({
    source    = string
    target    = string
    read_only = optional(bool, true)
  }))
  default = null
}

variable "datastorage_file_owner" {
  description = "Numeric user id to own the DS secrets files (mode 0400). \"\" (default): root-owned, mode 0444. Set it only for an image whose user resolves in its passwd database (not the scratch reference image)."
  type        = string
  default     = null
}

variable "healthcheck_interval" {
  description = "How often Docker checks PostgreSQL, Redis and the DS. Slower than the test default: this environment runs for days. 1s-59s written in s."
  type        = string
  default     = "2s"
}

variable "wait_for_healthchecks" {
  description = "true (default): the apply waits for the engine's healthchecks of PostgreSQL, Redis and the DS. false: it returns once the containers started (the migration job waits for PostgreSQL itself, the DS retries its connections: connect_attempts x connect_interval); poll the DS's /readyz before use. Set false on Podman without systemd, which never runs healthchecks, so a wait would hang until its timeout."
  type        = bool
  default     = true
  nullable    = false
}

variable "job_logs" {
  description = "true (default): the apply captures the migration job's log to show it when the job fails. Set false on Podman 4.3, whose log follow can miss the exit of a job that ends right after it starts and hang the apply (the log stays in the job's container)."
  type        = bool
  default     = true
  nullable    = false
}

variable "migrations_dir" {
  description = "Host directory of the DS's own goose migrations, applied instead of the reference schema: required with any datastorage_image other than dsenv/datastorage (the real DS)."
  type        = string
  default     = null
}

variable "auth_standin_image" {
  description = "Image of the Kubernetes auth stand-in the DS checks tokens with (default dsenv/authstandin:latest)."
  type        = string
  default     = null
}

variable "denied_token" {
  description = "A token the auth stand-in authenticates but denies (the DS answers 403). null: derived from api_token."
  type        = string
  default     = null
  sensitive   = true
}

variable "signer_cert_pem" {
  description = "The DS's RSA signing certificate (PEM), required with the real DS: e.g. openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=dsenv-signer -keyout tls.key -out tls.crt, then signer_cert_pem = file(...) in TF_VAR_signer_cert_pem."
  type        = string
  default     = null
  sensitive   = true
}

variable "signer_key_pem" {
  description = "RSA private key (PEM) of signer_cert_pem."
  type        = string
  default     = null
  sensitive   = true
}
