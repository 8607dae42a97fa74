variable "name" {
  description = "Prefix of the container names: <name>-etcd and <name>-kube-apiserver."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,47}$", var.name))
    error_message = "name must start with a letter or digit and hold only letters, digits, '_', '.' or '-' (at most 48 characters)."
  }
}

variable "network_name" {
  description = "Docker network both containers join (kube-apiserver with alias var.alias, etcd with var.etcd_alias)."
  type        = string

  validation {
    condition     = length(var.network_name) > 0
    error_message = "network_name must name an existing Docker network."
  }
}

variable "alias" {
  description = "Network alias of kube-apiserver (host of internal_url; must be a DNS name of the serving certificate)."
  type        = string
  default     = "kube-api"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.alias))
    error_message = "alias must be a DNS label: lower-case letters, digits and '-', e.g. \"kube-api\"."
  }
}

variable "etcd_alias" {
  description = "Network alias of etcd (only kube-apiserver talks to it)."
  type        = string
  default     = "etcd"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.etcd_alias))
    error_message = "etcd_alias must be a DNS label: lower-case letters, digits and '-', e.g. \"etcd\"."
  }
}

variable "image" {
  description = "kube-apiserver image (`dsenv setup --with-kube` builds dsenv/kube-apiserver:v1.37.2). Its entrypoint must be kube-apiserver."
  type        = string
  default     = "dsenv/kube-apiserver:v1.37.2"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.image))
    error_message = "image must be an image reference such as \"dsenv/kube-apiserver:v1.37.2\" (no spaces)."
  }
}

variable "etcd_image" {
  description = "etcd image (`dsenv setup --with-kube` builds dsenv/etcd:v3.7.3). Its entrypoint must be etcd."
  type        = string
  default     = "dsenv/etcd:v3.7.3"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.etcd_image))
    error_message = "etcd_image must be an image reference such as \"dsenv/etcd:v3.7.3\" (no spaces)."
  }
}

variable "pull_image" {
  description = "Pull both images from their registry (docker_image resources, kept locally on destroy) instead of looking up local images. Needs a reachable registry."
  type        = bool
  default     = false
}

variable "ca_cert_pem" {
  description = "PEM CA certificate that signed the serving certificate and the admin client certificate (kube-apiserver's --client-ca-file)."
  type        = string

  validation {
    condition     = strcontains(var.ca_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "ca_cert_pem must be a PEM certificate (-----BEGIN CERTIFICATE-----)."
  }
}

variable "tls_cert_pem" {
  description = "PEM serving certificate of kube-apiserver, signed by ca_cert_pem; its names must cover var.alias and 127.0.0.1."
  type        = string

  validation {
    condition     = strcontains(var.tls_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "tls_cert_pem must be a PEM certificate (-----BEGIN CERTIFICATE-----)."
  }
}

variable "tls_key_pem" {
  description = "PEM private key of tls_cert_pem."
  type        = string
  sensitive   = true

  validation {
    condition     = strcontains(var.tls_key_pem, "PRIVATE KEY-----")
    error_message = "tls_key_pem must be a PEM private key."
  }
}

variable "service_account_key_pem" {
  description = "PEM RSA private key that signs ServiceAccount tokens and verifies them (--service-account-signing-key-file and --service-account-key-file)."
  type        = string
  sensitive   = true

  validation {
    condition     = strcontains(var.service_account_key_pem, "PRIVATE KEY-----")
    error_message = "service_account_key_pem must be a PEM private key (RSA)."
  }
}

variable "admin_cert_pem" {
  description = "PEM client certificate of the admin identity (O=system:masters), signed by ca_cert_pem; goes only into the admin_kubeconfig output."
  type        = string

  validation {
    condition     = strcontains(var.admin_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "admin_cert_pem must be a PEM certificate (-----BEGIN CERTIFICATE-----)."
  }
}

variable "admin_key_pem" {
  description = "PEM private key of admin_cert_pem; goes only into the admin_kubeconfig output."
  type        = string
  sensitive   = true

  validation {
    condition     = strcontains(var.admin_key_pem, "PRIVATE KEY-----")
    error_message = "admin_key_pem must be a PEM private key."
  }
}

variable "server_cert_pem" {
  description = "PEM client certificate of the DS's own identity (CN=system:serviceaccount:<ns>:<name>), signed by ca_cert_pem; goes only into the server_kubeconfig output."
  type        = string

  validation {
    condition     = strcontains(var.server_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "server_cert_pem must be a PEM certificate (-----BEGIN CERTIFICATE-----)."
  }
}

variable "server_key_pem" {
  description = "PEM private key of server_cert_pem; goes only into the server_kubeconfig output."
  type        = string
  sensitive   = true

  validation {
    condition     = strcontains(var.server_key_pem, "PRIVATE KEY-----")
    error_message = "server_key_pem must be a PEM private key."
  }
}

variable "service_account_issuer" {
  description = "Issuer (iss) of ServiceAccount tokens, and their default audience."
  type        = string
  default     = "https://kubernetes.default.svc"

  validation {
    condition     = can(regex("^https://[^\\s]+$", var.service_account_issuer))
    error_message = "service_account_issuer must be an https URL, e.g. \"https://kubernetes.default.svc\"."
  }
}

variable "extra_args" {
  description = "More kube-apiserver flags, appended after the module's own (a later flag wins), e.g. [\"--v=4\"]."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.extra_args : startswith(a, "--")])
    error_message = "each extra_args entry must be one flag starting with \"--\", e.g. \"--v=4\"."
  }
}

variable "etcd_tmpfs_mb" {
  description = "Size in MiB of etcd's in-memory data directory."
  type        = number
  default     = 256

  validation {
    condition     = var.etcd_tmpfs_mb == floor(var.etcd_tmpfs_mb) && var.etcd_tmpfs_mb >= 32
    error_message = "etcd_tmpfs_mb must be a whole number of at least 32."
  }
}

variable "bind_address" {
  description = "Host address kube-apiserver's published port binds to."
  type        = string
  default     = "127.0.0.1"

  validation {
    condition     = can(cidrhost("${var.bind_address}/32", 0)) || can(cidrhost("${var.bind_address}/128", 0))
    error_message = "bind_address must be an IP address such as \"127.0.0.1\" (not a host name)."
  }
}

variable "host_port" {
  description = "Host port for 6443; 0 lets Docker pick a free one (read it from the port output)."
  type        = number
  default     = 0

  validation {
    condition     = var.host_port == floor(var.host_port) && var.host_port >= 0 && var.host_port <= 65535
    error_message = "host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "restart" {
  description = "Docker restart policy of both containers: \"no\" for throwaway environments, \"unless-stopped\" for a long-lived one (etcd's data is in memory: a restart starts empty and needs the bootstrap again)."
  type        = string
  default     = "no"

  validation {
    condition     = contains(["no", "on-failure", "always", "unless-stopped"], var.restart)
    error_message = "restart must be one of \"no\", \"on-failure\", \"always\", \"unless-stopped\"."
  }
}

variable "labels" {
  description = "Labels put on both containers."
  type        = map(string)
  default     = {}
}
