variable "name_prefix" {
  description = "Name of the shared environment (prefix of every object's name, dsenv.env label)."
  type        = string
  default     = "dsenv-shared"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters: a lower-case letter, then lower-case letters, digits or '-'."
  }
}

variable "owner" {
  description = "dsenv.owner label: manual@<hostname> of the machine that keeps the environment."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$", var.owner))
    error_message = "owner must look like manual@<hostname>."
  }
}

variable "created" {
  description = "dsenv.created label: unix seconds of the first apply (date +%s), kept afterwards."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,12}$", var.created))
    error_message = "created must be unix seconds, e.g. \"1795689600\"."
  }
}

variable "postgres_password" {
  description = "PostgreSQL password (keep it in a git-ignored tfvars file or TF_VAR_postgres_password)."
  type        = string
  sensitive   = true
}

variable "redis_password" {
  description = "Redis password."
  type        = string
  sensitive   = true
}

variable "api_token" {
  description = "Bearer token the DS API accepts."
  type        = string
  sensitive   = true
}

variable "bind_address" {
  description = "Host address the published ports bind to."
  type        = string
  default     = "127.0.0.1"
}

variable "postgres_host_port" {
  description = "Fixed host port for PostgreSQL (0: Docker picks one)."
  type        = number
  default     = 0
}

variable "redis_host_port" {
  description = "Fixed host port for Redis (0: Docker picks one)."
  type        = number
  default     = 0
}

variable "datastorage_host_port" {
  description = "Fixed host port for the DS API (0: Docker picks one)."
  type        = number
  default     = 0
}

variable "datastorage_image" {
  description = "DS image (the real DS: also set datastorage_preflight = false)."
  type        = string
  default     = "dsenv/datastorage:latest"
}

variable "datastorage_preflight" {
  description = "Run `/datastorage preflight` before the DS (false for an image without that mode)."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "DS log level."
  type        = string
  default     = "info"
}
