variable "name" {
  description = "Container name, e.g. \"<name_prefix>-kube-auth\"."
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
  description = "Network alias the DS reaches the stand-in by (the host of the kubeconfig's server URL)."
  type        = string
  default     = "kube-auth"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.alias))
    error_message = "alias must be a DNS label: lower-case letters, digits and '-', e.g. \"kube-auth\"."
  }
}

variable "image" {
  description = "Stand-in image (built by `dsenv setup`)."
  type        = string
  default     = "dsenv/authstandin:latest"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.image))
    error_message = "image must be an image reference such as \"dsenv/authstandin:latest\" (no spaces)."
  }
}

variable "pull_image" {
  description = "Pull the image from its registry (docker_image resource, kept locally on destroy) instead of looking up a local image. Needs a reachable registry."
  type        = bool
  default     = false
}

variable "port" {
  description = "Port the stand-in listens on inside the network (plain HTTP)."
  type        = number
  default     = 8080

  validation {
    condition     = var.port == floor(var.port) && var.port >= 1024 && var.port <= 65535
    error_message = "port must be a whole number from 1024 to 65535 (the stand-in runs as uid 65534)."
  }
}

variable "namespace" {
  description = "Namespace of the identities and of the access checks the API token passes: give the DS the same value as POD_NAMESPACE."
  type        = string
  default     = "dsenv"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label (lower-case letters, digits, '-'), e.g. \"dsenv\"."
  }
}

variable "service_name" {
  description = "Service name the DS checks access to (resourceAttributes.name); the real DS asks for data-storage-service."
  type        = string
  default     = "data-storage-service"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.service_name))
    error_message = "service_name must be a DNS label, e.g. \"data-storage-service\"."
  }
}

variable "api_token" {
  description = "The environment's API token: authenticates as system:serviceaccount:<namespace>:<api_service_account> and passes every access check on the service. Uploaded in the tokens file only."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.api_token) >= 16 && can(regex("^[!-~]+$", var.api_token))
    error_message = "api_token must be at least 16 printable ASCII characters with no whitespace: generate one (e.g. openssl rand -hex 32)."
  }
}

variable "api_service_account" {
  description = "Service-account name the API token authenticates as (a system:serviceaccount:* username keeps the event actor_type \"service\")."
  type        = string
  default     = "gateway"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.api_service_account))
    error_message = "api_service_account must be a DNS label, e.g. \"gateway\"."
  }
}

variable "denied_token" {
  description = "A second token that authenticates but fails every access check (the DS answers 403), so a suite can test it. Uploaded in the tokens file only."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.denied_token) >= 16 && can(regex("^[!-~]+$", var.denied_token))
    error_message = "denied_token must be at least 16 printable ASCII characters with no whitespace: generate one (e.g. openssl rand -hex 32)."
  }
}

variable "denied_service_account" {
  description = "Service-account name the denied token authenticates as."
  type        = string
  default     = "denied"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.denied_service_account))
    error_message = "denied_service_account must be a DNS label, e.g. \"denied\"."
  }
}

variable "log_level" {
  description = "Log level of the stand-in: one JSON line per review at info."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be one of \"debug\", \"info\", \"warn\", \"error\"."
  }
}

variable "publish" {
  description = "Publish the port on the host (var.bind_address, a free port chosen by Docker) to reach the stand-in from tests. Off by default: only the DS talks to it."
  type        = bool
  default     = false
}

variable "bind_address" {
  description = "Host address the published port binds to when publish is true."
  type        = string
  default     = "127.0.0.1"

  validation {
    condition     = can(cidrhost("${var.bind_address}/32", 0)) || can(cidrhost("${var.bind_address}/128", 0))
    error_message = "bind_address must be an IP address such as \"127.0.0.1\" (not a host name)."
  }
}

variable "labels" {
  description = "Labels put on the container."
  type        = map(string)
  default     = {}
}

variable "wait" {
  description = "true: add a Docker healthcheck (the binary's own `healthcheck`) and make the apply wait until it passes. false (default): no healthcheck; the caller polls /readyz (tfharness does)."
  type        = bool
  default     = false

  validation {
    condition     = var.wait != null
    error_message = "wait must be true or false."
  }
}

variable "wait_timeout" {
  description = "Seconds to wait for the container to turn healthy when wait is true."
  type        = number
  default     = 30

  validation {
    condition     = var.wait_timeout >= 1 && var.wait_timeout == floor(var.wait_timeout)
    error_message = "wait_timeout must be a whole number of seconds, at least 1."
  }
}

variable "healthcheck_interval" {
  description = "How often Docker runs the healthcheck when wait is true. Go duration."
  type        = string
  default     = "200ms"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,2}ms|[1-5]?[0-9]s)$", var.healthcheck_interval)) && var.healthcheck_interval != "0s"
    error_message = "healthcheck_interval must be 1ms-999ms written in ms (\"200ms\") or 1s-59s written in s (\"2s\"), the form Docker reports back (anything else gives a perpetual diff)."
  }
}

variable "restart" {
  description = "Docker restart policy: \"no\" for throwaway environments, \"unless-stopped\" for a long-lived one."
  type        = string
  default     = "no"

  validation {
    condition     = contains(["no", "on-failure", "always", "unless-stopped"], var.restart)
    error_message = "restart must be one of \"no\", \"on-failure\", \"always\", \"unless-stopped\"."
  }
}
