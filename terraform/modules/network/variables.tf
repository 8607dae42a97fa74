variable "name" {
  description = "Name of the Docker network. Containers of the environment join it and reach each other by alias."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", var.name))
    error_message = "name must start with a letter or digit and hold only letters, digits, '_', '.' or '-' (at most 63 characters), e.g. \"dsenv-abc123\"."
  }
}

variable "labels" {
  description = "Labels put on the network (the dsenv.env, dsenv.owner and dsenv.created labels come from the caller)."
  type        = map(string)
  default     = {}
}

variable "internal" {
  description = "Create an internal network: no route to the outside, and Docker publishes no ports of its containers. Keep false for dsenv (its ports are published on the host)."
  type        = bool
  default     = false
}
