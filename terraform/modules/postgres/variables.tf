variable "name" {
  description = "Container name (also the prefix of the data volume's name when durable)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", var.name))
    error_message = "name must start with a letter or digit and hold only letters, digits, '_', '.' or '-' (at most 63 characters)."
  }
}

variable "network_name" {
  description = "Docker network the container joins (with alias var.alias)."
  type        = string

  validation {
    condition     = length(var.network_name) > 0
    error_message = "network_name must name an existing Docker network."
  }
}

variable "alias" {
  description = "Network alias other containers use to reach PostgreSQL (host part of the network-side DSN)."
  type        = string
  default     = "postgres"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.alias))
    error_message = "alias must be a DNS label: lower-case letters, digits and '-', e.g. \"postgres\"."
  }
}

variable "image" {
  description = "PostgreSQL image. The local dsenv/postgres:15 or any image with the official postgres image's environment contract (postgres:16-alpine). An image id (sha256:...) is used as it is, without looking it up."
  type        = string
  default     = "dsenv/postgres:15"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.image))
    error_message = "image must be an image reference such as \"dsenv/postgres:15\" or \"postgres:16-alpine\" (no spaces)."
  }
}

variable "pull_image" {
  description = "Pull the image from its registry (docker_image resource, kept locally on destroy) instead of looking up a local image. Needs a reachable registry."
  type        = bool
  default     = false
}

variable "user" {
  description = "Superuser name created on first start (POSTGRES_USER)."
  type        = string
  default     = "datastorage"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.user))
    error_message = "user must be a plain PostgreSQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters."
  }
}

variable "password" {
  description = "Password of var.user. Uploaded as a file (POSTGRES_PASSWORD_FILE), never passed in the environment."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.password) > 0
    error_message = "password must not be empty: generate one (e.g. openssl rand -hex 16)."
  }

  validation {
    condition     = can(regex("^[^\\s\"'\\\\]+$", var.password))
    error_message = "password must not contain whitespace, quotes or backslashes (hex or base64 works)."
  }
}

variable "db" {
  description = "Database created on first start (POSTGRES_DB)."
  type        = string
  default     = "datastorage"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.db))
    error_message = "db must be a plain PostgreSQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters."
  }
}

variable "bind_address" {
  description = "Host address the published port binds to."
  type        = string
  default     = "127.0.0.1"

  validation {
    condition     = can(cidrhost("${var.bind_address}/32", 0)) || can(cidrhost("${var.bind_address}/128", 0))
    error_message = "bind_address must be an IP address such as \"127.0.0.1\" (not a host name)."
  }
}

variable "host_port" {
  description = "Host port for 5432; 0 lets Docker pick a free one (read it from the port output)."
  type        = number
  default     = 0

  validation {
    condition     = var.host_port == floor(var.host_port) && var.host_port >= 0 && var.host_port <= 65535
    error_message = "host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "durable" {
  description = "true: data in a named volume that outlives the container. false: data on a tmpfs with fsync, synchronous_commit and full_page_writes off (fast, lost with the container; for tests)."
  type        = bool
  default     = false
}

variable "extra_args" {
  description = "Extra server settings, each passed as `-c <value>` (e.g. [\"max_connections=200\"])."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.extra_args : can(regex("^[a-z_.]+=\\S+$", a))])
    error_message = "extra_args entries must look like \"name=value\" with no spaces, e.g. \"max_connections=200\"."
  }
}

variable "labels" {
  description = "Labels put on the container and the volume."
  type        = map(string)
  default     = {}
}

variable "healthcheck_interval" {
  description = "How often Docker runs the readiness check (pg_isready over TCP plus SELECT 1). Go duration."
  type        = string
  default     = "200ms"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,2}ms|[1-5]?[0-9]s)$", var.healthcheck_interval)) && var.healthcheck_interval != "0s"
    error_message = "healthcheck_interval must be 1ms-999ms written in ms (\"200ms\") or 1s-59s written in s (\"2s\"), the form Docker reports back (anything else gives a perpetual diff)."
  }
}

variable "wait" {
  description = "Make the apply wait until the container is healthy. With false the apply moves on as soon as it runs (the migrate job waits for PostgreSQL itself)."
  type        = bool
  default     = true
}

variable "wait_timeout" {
  description = "Seconds to wait for the container to turn healthy when wait is true."
  type        = number
  default     = 60

  validation {
    condition     = var.wait_timeout >= 1 && var.wait_timeout == floor(var.wait_timeout)
    error_message = "wait_timeout must be a whole number of seconds, at least 1."
  }
}

variable "restart" {
  description = "Docker restart policy: \"no\" for throwaway environments, \"unless-stopped\" for a long-lived one (comes back after a Docker restart)."
  type        = string
  default     = "no"

  validation {
    condition     = contains(["no", "on-failure", "always", "unless-stopped"], var.restart)
    error_message = "restart must be one of \"no\", \"on-failure\", \"always\", \"unless-stopped\"."
  }
}

variable "volume_name" {
  description = "Existing named volume for the data when durable. Empty: the module creates <name>-data itself. A caller that must protect the data (lifecycle prevent_destroy, which a module cannot make conditional) creates the volume and passes its name."
  type        = string
  default     = ""

  validation {
    condition     = var.volume_name == "" || can(regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", var.volume_name))
    error_message = "volume_name must be empty or a Docker volume name (letters, digits, '_', '.', '-')."
  }
}
