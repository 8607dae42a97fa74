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
  description = "Network alias other containers use to reach Redis (host part of the network-side address)."
  type        = string
  default     = "redis"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.alias))
    error_message = "alias must be a DNS label: lower-case letters, digits and '-', e.g. \"redis\"."
  }
}

variable "image" {
  description = "Redis image: the local dsenv/redis:7 or the official redis image (redis:7-alpine). Its command must accept `redis-server <config file>`. An image id (sha256:...) is used as it is, without looking it up."
  type        = string
  default     = "dsenv/redis:7"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.image))
    error_message = "image must be an image reference such as \"dsenv/redis:7\" or \"redis:7-alpine\" (no spaces)."
  }
}

variable "pull_image" {
  description = "Pull the image from its registry (docker_image resource, kept locally on destroy) instead of looking up a local image. Needs a reachable registry."
  type        = bool
  default     = false
}

variable "password" {
  description = "Password clients must AUTH with (requirepass). Uploaded in a config file, never passed in the environment or arguments."
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
  description = "Host port for 6379; 0 lets Docker pick a free one (read it from the port output)."
  type        = number
  default     = 0

  validation {
    condition     = var.host_port == floor(var.host_port) && var.host_port >= 0 && var.host_port <= 65535
    error_message = "host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "durable" {
  description = "true: append-only file in a named volume mounted at /data, so queued dead-letter events survive container replacement. false: no persistence at all (tests)."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels put on the container and the volume."
  type        = map(string)
  default     = {}
}

variable "healthcheck_interval" {
  description = "How often Docker runs the readiness check (redis-cli PING with AUTH). Go duration."
  type        = string
  default     = "200ms"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,2}ms|[1-5]?[0-9]s)$", var.healthcheck_interval)) && var.healthcheck_interval != "0s"
    error_message = "healthcheck_interval must be 1ms-999ms written in ms (\"200ms\") or 1s-59s written in s (\"2s\"), the form Docker reports back (anything else gives a perpetual diff)."
  }
}

variable "wait" {
  description = "Make the apply wait until the container is healthy. With false the apply moves on as soon as it runs (the DS retries its connection)."
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
