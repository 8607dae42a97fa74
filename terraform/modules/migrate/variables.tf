variable "name" {
  description = "Name of the one-shot job's container."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", var.name))
    error_message = "name must start with a letter or digit and hold only letters, digits, '_', '.' or '-' (at most 63 characters)."
  }
}

variable "network_name" {
  description = "Docker network the container joins."
  type        = string

  validation {
    condition     = length(var.network_name) > 0
    error_message = "network_name must name an existing Docker network."
  }
}

variable "image" {
  description = "Migration image: dsenv/migrate:latest or one with the same contract (DSMIGRATE_DSN_FILE, DSMIGRATE_WAIT, DSMIGRATE_DIR; exit 0 when migrated). An image id (sha256:...) is used as it is, without looking it up."
  type        = string
  default     = "dsenv/migrate:latest"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.image))
    error_message = "image must be an image reference such as \"dsenv/migrate:latest\" (no spaces)."
  }
}

variable "pull_image" {
  description = "Pull the image from its registry (docker_image resource, kept locally on destroy) instead of looking up a local image. Needs a reachable registry."
  type        = bool
  default     = false
}

variable "dsn" {
  description = "Network-side PostgreSQL DSN the job migrates. Uploaded as a file (DSMIGRATE_DSN_FILE), never in the environment."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^postgres(ql)?://", var.dsn))
    error_message = "dsn must be a postgres:// URL, e.g. postgres://user:pass@postgres:5432/db?sslmode=disable."
  }
}

variable "file_owner" {
  description = "Numeric user id to own the uploaded secret file(s) with mode 0400. \"\" (default): root-owned, mode 0444 (read-only for everyone in the container). Docker applies an owner by resolving the container's user in the daemon host's passwd database, which fails for a scratch image with USER 65534:65534 (getent unable to find entry \"65534:65534\"), so set this only for an image whose user resolves."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[0-9]*$", var.file_owner))
    error_message = "file_owner must be a numeric user id such as \"65534\", or \"\" for a root-owned 0444 file."
  }
}

variable "wait_for_database" {
  description = "How long the job waits for PostgreSQL to answer SELECT 1 before giving up (DSMIGRATE_WAIT, Go duration)."
  type        = string
  default     = "60s"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$", var.wait_for_database))
    error_message = "wait_for_database must be a Go duration such as \"60s\" or \"2m\"."
  }
}

variable "migrations_dir" {
  description = "Directory inside the container with goose *.sql files to apply instead of the embedded ones (DSMIGRATE_DIR); mount it with var.mounts. Empty: the embedded migrations."
  type        = string
  default     = ""

  validation {
    condition     = var.migrations_dir == "" || startswith(var.migrations_dir, "/")
    error_message = "migrations_dir must be an absolute path inside the container, or \"\"."
  }
}

variable "mounts" {
  description = "Host paths bind-mounted into the job (e.g. a migrations directory)."
  type = list(object({
    source    = string
    target    = string
    read_only = optional(bool, true)
  }))
  default = []

  validation {
    condition     = alltrue([for m in var.mounts : startswith(m.source, "/") && startswith(m.target, "/")])
    error_message = "mounts: source and target must be absolute paths."
  }
}

variable "extra_env" {
  description = "Extra environment variables for the job."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "extra_env keys must be environment variable names (letters, digits, '_')."
  }
}

variable "triggers" {
  description = "Values whose change re-runs the job (e.g. the PostgreSQL container id: a fresh database needs the migrations again). Stored as labels dsenv.trigger.<key>."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.triggers) : can(regex("^[a-z0-9][a-z0-9_.-]*$", k))])
    error_message = "triggers keys must be lower-case label-safe words such as \"postgres\"."
  }
}

variable "labels" {
  description = "Labels put on the job's container."
  type        = map(string)
  default     = {}
}

variable "capture_logs" {
  description = "true (default): the apply captures the job's log (the docker provider follows it) to show it when the job fails. false: not captured (see the container's log instead); for Podman 4.3, whose log follow can miss the exit of a job that ends right after it starts and then never returns, hanging the apply."
  type        = bool
  default     = true
  nullable    = false
}
