# Inputs of the persistent shared environment. Credentials have no defaults: put them in a
# git-ignored shared.tfvars (see shared.tfvars.example) or in TF_VAR_* variables.

variable "name_prefix" {
  description = "Name of the environment: prefix of every Docker object's name and value of the dsenv.env label. Changing it replaces everything, the data volumes included (refused by prevent_destroy)."
  type        = string
  default     = "dsenv-shared"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters: a lower-case letter, then lower-case letters, digits or '-' (e.g. \"dsenv-shared\")."
  }
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
  description = "Value of the dsenv.created label: unix seconds when the environment was first applied (date +%s). Set once and keep it: labels cannot change in place, so a new value would replace every object."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,12}$", var.created))
    error_message = "created must be unix seconds, e.g. \"1795689600\" (date +%s), set once in shared.tfvars."
  }
}

variable "labels" {
  description = "Extra labels on every container, network and volume."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.labels) : can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]*$", k))])
    error_message = "labels keys must start with a letter or digit and hold only letters, digits, '.', '_', '/' or '-'."
  }

  validation {
    condition     = length(setintersection(keys(var.labels), ["dsenv.env", "dsenv.owner", "dsenv.created", "dsenv.persistent"])) == 0
    error_message = "labels must not set dsenv.env, dsenv.owner, dsenv.created or dsenv.persistent: use name_prefix, owner and created."
  }
}

variable "postgres_image" {
  description = "PostgreSQL image: the local dsenv/postgres:15, or postgres:16-alpine where a registry is reachable (with pull_images)."
  type        = string
  default     = "dsenv/postgres:15"
}

variable "redis_image" {
  description = "Redis image: the local dsenv/redis:7, or redis:7-alpine."
  type        = string
  default     = "dsenv/redis:7"
}

variable "datastorage_image" {
  description = "DS image. Changing it replaces only the DS container."
  type        = string
  default     = "dsenv/datastorage:latest"
}

variable "migrate_image" {
  description = "Migration job image."
  type        = string
  default     = "dsenv/migrate:latest"
}

variable "pull_images" {
  description = "Pull the images from their registry instead of using local ones. Needs a reachable registry."
  type        = bool
  default     = false
}

variable "postgres_password" {
  description = "PostgreSQL password. No default: generate one (openssl rand -hex 16) into shared.tfvars or TF_VAR_postgres_password. Note: PostgreSQL sets it only when the data volume is first initialised."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.postgres_password) >= 16
    error_message = "postgres_password must be at least 16 characters: a shared environment lives for days; generate one, e.g. openssl rand -hex 16."
  }

  validation {
    condition     = can(regex("^[^\\s\"'\\\\]+$", var.postgres_password))
    error_message = "postgres_password must not contain whitespace, quotes or backslashes (hex or base64 works)."
  }
}

variable "redis_password" {
  description = "Redis password (requirepass). No default: generate one (openssl rand -hex 16)."
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
  description = "Bearer token the DS API accepts. No default: generate one (openssl rand -hex 24)."
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
  description = "PostgreSQL user (created when the data volume is first initialised)."
  type        = string
  default     = "datastorage"
}

variable "postgres_db" {
  description = "PostgreSQL database (created when the data volume is first initialised)."
  type        = string
  default     = "datastorage"
}

variable "bind_address" {
  description = "Host address every published port binds to. 127.0.0.1 keeps the environment to this machine; use the machine's own address only on a trusted network."
  type        = string
  default     = "127.0.0.1"

  validation {
    condition     = can(cidrhost("${var.bind_address}/32", 0)) || can(cidrhost("${var.bind_address}/128", 0))
    error_message = "bind_address must be an IP address such as \"127.0.0.1\", not a host name."
  }
}

variable "postgres_host_port" {
  description = "Fixed host port for PostgreSQL."
  type        = number

  validation {
    condition     = var.postgres_host_port == floor(var.postgres_host_port) && var.postgres_host_port >= 1 && var.postgres_host_port <= 65535
    error_message = "postgres_host_port must be a fixed port from 1 to 65535 (a shared environment keeps its ports), e.g. 15432."
  }
}

variable "redis_host_port" {
  description = "Fixed host port for Redis."
  type        = number

  validation {
    condition     = var.redis_host_port == floor(var.redis_host_port) && var.redis_host_port >= 1 && var.redis_host_port <= 65535
    error_message = "redis_host_port must be a fixed port from 1 to 65535, e.g. 16379."
  }
}

variable "datastorage_host_port" {
  description = "Fixed host port for the DS API."
  type        = number

  validation {
    condition     = var.datastorage_host_port == floor(var.datastorage_host_port) && var.datastorage_host_port >= 1 && var.datastorage_host_port <= 65535
    error_message = "datastorage_host_port must be a fixed port from 1 to 65535, e.g. 18080."
  }
}

variable "datastorage_health_host_port" {
  description = "Fixed host port for the DS health endpoints (/healthz, /readyz)."
  type        = number

  validation {
    condition     = var.datastorage_health_host_port == floor(var.datastorage_health_host_port) && var.datastorage_health_host_port >= 1 && var.datastorage_health_host_port <= 65535
    error_message = "datastorage_health_host_port must be a fixed port from 1 to 65535, e.g. 18081."
  }
}

variable "datastorage_metrics_host_port" {
  description = "Fixed host port for the DS metrics endpoint."
  type        = number

  validation {
    condition     = var.datastorage_metrics_host_port == floor(var.datastorage_metrics_host_port) && var.datastorage_metrics_host_port >= 1 && var.datastorage_metrics_host_port <= 65535
    error_message = "datastorage_metrics_host_port must be a fixed port from 1 to 65535, e.g. 19090."
  }
}

variable "restart_policy" {
  description = "Docker restart policy of PostgreSQL, Redis and the DS (the migration job never restarts)."
  type        = string
  default     = "unless-stopped"

  validation {
    condition     = contains(["no", "on-failure", "always", "unless-stopped"], var.restart_policy)
    error_message = "restart_policy must be one of \"no\", \"on-failure\", \"always\", \"unless-stopped\"."
  }
}

variable "log_level" {
  description = "DS log level: debug, info, warn or error. Changing it replaces only the DS container."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], lower(var.log_level))
    error_message = "log_level must be one of debug, info, warn, error."
  }
}

variable "datastorage_extra_env" {
  description = "Extra environment variables for the DS container. Changing them replaces only the DS container."
  type        = map(string)
  default     = {}

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
  description = "Host paths bind-mounted into the DS (the real DS's signing cert dir, a kubeconfig)."
  type = list(object({
    source    = string
    target    = string
    read_only = optional(bool, true)
  }))
  default = []

  validation {
    condition     = alltrue([for m in var.datastorage_mounts : startswith(m.source, "/") && startswith(m.target, "/")])
    error_message = "datastorage_mounts: source and target must be absolute paths."
  }
}

variable "datastorage_file_owner" {
  description = "Numeric user id to own the DS secrets files (mode 0400). \"\" (default): root-owned, mode 0444. Set it only for an image whose user resolves in its passwd database (not the scratch reference image)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[0-9]*$", var.datastorage_file_owner))
    error_message = "datastorage_file_owner must be a numeric user id such as \"65534\", or \"\"."
  }
}

variable "healthcheck_interval" {
  description = "How often Docker checks PostgreSQL, Redis and the DS. Slower than the test default (200ms): this environment runs for days. 1s-59s written in s."
  type        = string
  default     = "2s"

  validation {
    condition     = can(regex("^[1-5]?[0-9]s$", var.healthcheck_interval)) && var.healthcheck_interval != "0s"
    error_message = "healthcheck_interval must be 1s-59s written in s, e.g. \"2s\" (the form Docker reports back)."
  }
}
