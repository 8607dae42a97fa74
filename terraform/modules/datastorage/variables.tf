variable "name" {
  description = "Container name of the DS (the preflight job, when enabled, is <name>-preflight)."
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
  description = "Network alias other containers use to reach the DS."
  type        = string
  default     = "datastorage"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.alias))
    error_message = "alias must be a DNS label: lower-case letters, digits and '-', e.g. \"datastorage\"."
  }
}

variable "image" {
  description = "DS image: the reference dsenv/datastorage:latest or the real Data Storage image. An image id (sha256:...) is used as it is, without looking it up."
  type        = string
  default     = "dsenv/datastorage:latest"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", var.image))
    error_message = "image must be an image reference such as \"dsenv/datastorage:latest\" (no spaces)."
  }
}

variable "pull_image" {
  description = "Pull the image from its registry (docker_image resource, kept locally on destroy) instead of looking up a local image. Needs a reachable registry."
  type        = bool
  default     = false
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
  description = "Host port for the API (8080); 0 lets Docker pick a free one (read it from the port output)."
  type        = number
  default     = 0

  validation {
    condition     = var.host_port == floor(var.host_port) && var.host_port >= 0 && var.host_port <= 65535
    error_message = "host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "health_host_port" {
  description = "Host port for the health endpoints (8081); 0 lets Docker pick a free one (read it from the port output)."
  type        = number
  default     = 0

  validation {
    condition     = var.health_host_port == floor(var.health_host_port) && var.health_host_port >= 0 && var.health_host_port <= 65535
    error_message = "health_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "metrics_host_port" {
  description = "Host port for the metrics endpoint (9090); 0 lets Docker pick a free one (read it from the port output)."
  type        = number
  default     = 0

  validation {
    condition     = var.metrics_host_port == floor(var.metrics_host_port) && var.metrics_host_port >= 0 && var.metrics_host_port <= 65535
    error_message = "metrics_host_port must be a whole number from 1 to 65535, or 0 for a free port chosen by Docker."
  }
}

variable "log_level" {
  description = "DS log level: debug, info, warn or error (any case)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], lower(var.log_level))
    error_message = "log_level must be one of debug, info, warn, error."
  }
}

variable "postgres" {
  description = "Where the DS finds PostgreSQL on the network: host (alias), port, database name and user. The password comes from postgres_password."
  type = object({
    host = string
    port = optional(number, 5432)
    name = string
    user = string
  })

  validation {
    condition     = length(var.postgres.host) > 0 && length(var.postgres.name) > 0 && length(var.postgres.user) > 0
    error_message = "postgres.host, postgres.name and postgres.user must not be empty."
  }

  validation {
    condition     = var.postgres.port >= 1 && var.postgres.port <= 65535
    error_message = "postgres.port must be from 1 to 65535."
  }
}

variable "postgres_password" {
  description = "Password of postgres.user; rendered into store-secrets.yaml."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.postgres_password) > 0
    error_message = "postgres_password must not be empty."
  }
}

variable "redis_addr" {
  description = "Redis address on the network as host:port (e.g. \"redis:6379\")."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+:[0-9]{1,5}$", var.redis_addr))
    error_message = "redis_addr must be host:port, e.g. \"redis:6379\"."
  }
}

variable "redis_password" {
  description = "Redis password; rendered into store-secrets.yaml (an empty string means no AUTH)."
  type        = string
  sensitive   = true
}

variable "api_tokens" {
  description = "Bearer tokens the DS API accepts, as name => token; rendered into api-tokens.yaml."
  type        = map(string)
  sensitive   = true

  validation {
    condition     = length(var.api_tokens) > 0 && alltrue([for t in values(var.api_tokens) : length(t) > 0])
    error_message = "api_tokens must hold at least one token, and no token may be empty."
  }
}

variable "connect_attempts" {
  description = "How many times the DS tries to reach PostgreSQL and Redis at startup before it exits 1 (startup.connectAttempts)."
  type        = number
  default     = 10

  validation {
    condition     = var.connect_attempts == floor(var.connect_attempts) && var.connect_attempts >= 1 && var.connect_attempts <= 1000
    error_message = "connect_attempts must be a whole number from 1 to 1000."
  }
}

variable "connect_interval" {
  description = "Pause between startup connect attempts (startup.connectInterval) (Go duration)."
  type        = string
  default     = "2s"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", var.connect_interval))
    error_message = "connect_interval must be a Go duration such as \"2s\"."
  }
}

variable "dlq_retry_interval" {
  description = "Dead-letter worker poll and backoff base (dlq.retryInterval) (Go duration)."
  type        = string
  default     = "1s"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", var.dlq_retry_interval))
    error_message = "dlq_retry_interval must be a Go duration such as \"1s\"."
  }
}

variable "dlq_max_retries" {
  description = "Attempts before a queued event moves to audit:dead-letter:events (dlq.maxRetries)."
  type        = number
  default     = 5

  validation {
    condition     = var.dlq_max_retries == floor(var.dlq_max_retries) && var.dlq_max_retries >= 1 && var.dlq_max_retries <= 1000
    error_message = "dlq_max_retries must be a whole number from 1 to 1000."
  }
}

variable "dlq_max_len" {
  description = "Approximate cap of the dead-letter stream (redis.dlqMaxLen)."
  type        = number
  default     = 10000

  validation {
    condition     = var.dlq_max_len == floor(var.dlq_max_len) && var.dlq_max_len >= 1 && var.dlq_max_len <= 100000000
    error_message = "dlq_max_len must be a whole number from 1 to 100000000."
  }
}

variable "max_batch_size" {
  description = "Most events one batch request may carry (server.maxBatchSize)."
  type        = number
  default     = 500

  validation {
    condition     = var.max_batch_size == floor(var.max_batch_size) && var.max_batch_size >= 1 && var.max_batch_size <= 100000
    error_message = "max_batch_size must be a whole number from 1 to 100000."
  }
}

variable "database_settings" {
  description = "Connection pool and timeout settings rendered into the database section (all keys the real DS requires)."
  type = object({
    ssl_mode           = optional(string, "disable")
    max_open_conns     = optional(number, 25)
    max_idle_conns     = optional(number, 5)
    conn_max_lifetime  = optional(string, "5m")
    conn_max_idle_time = optional(string, "10m")
    statement_timeout  = optional(string, "30s")
    lock_timeout       = optional(string, "10s")
    write_timeout      = optional(string, "3s") # reference DS only: bound of one API write before the DLQ
  })
  default = {}

  validation {
    condition     = contains(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"], var.database_settings.ssl_mode)
    error_message = "database_settings.ssl_mode must be one of disable, allow, prefer, require, verify-ca, verify-full."
  }

  validation {
    condition = alltrue([for d in [
      var.database_settings.conn_max_lifetime, var.database_settings.conn_max_idle_time,
      var.database_settings.statement_timeout, var.database_settings.lock_timeout,
      var.database_settings.write_timeout,
    ] : can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", d))])
    error_message = "database_settings durations must be Go durations such as \"5m\" or \"30s\"."
  }

  validation {
    condition     = var.database_settings.max_open_conns >= 1 && var.database_settings.max_idle_conns >= 0 && var.database_settings.max_idle_conns <= var.database_settings.max_open_conns
    error_message = "database_settings: max_open_conns must be at least 1 and max_idle_conns from 0 to max_open_conns."
  }
}

variable "signer_cert_dir" {
  description = "server.signerCertDir: where the real DS finds tls.crt and tls.key (uploaded from signer_cert_pem / signer_key_pem). The reference DS ignores it."
  type        = string
  default     = "/etc/datastorage/certs"

  validation {
    condition     = startswith(var.signer_cert_dir, "/")
    error_message = "signer_cert_dir must be an absolute path inside the container."
  }
}

variable "extra_env" {
  description = "Extra environment variables for the DS container (CONFIG_PATH is set by the module)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "extra_env keys must be environment variable names (letters, digits, '_')."
  }

  validation {
    condition     = !contains(keys(var.extra_env), "CONFIG_PATH")
    error_message = "extra_env must not set CONFIG_PATH: the module points it at the rendered config."
  }
}

variable "mounts" {
  description = "Host paths bind-mounted into the DS (for the real DS: the signing cert dir, a kubeconfig)."
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

  validation {
    condition     = alltrue([for m in var.mounts : !contains(["/", "/etc", "/etc/datastorage", "/etc/datastorage/secrets"], trimsuffix(m.target, "/"))])
    error_message = "mounts: a target must not hide the uploaded config and secrets (/, /etc, /etc/datastorage, /etc/datastorage/secrets); mount below them, e.g. /etc/datastorage/certs."
  }
}

variable "file_owner" {
  description = "Numeric user id to own the uploaded secret file(s) with mode 0400. \"\" (default): root-owned, mode 0444 (read-only for everyone in the container). Docker applies an owner by resolving the container's user in the daemon host's passwd database, which fails for a scratch image with USER 65534:65534 (getent unable to find entry \"65534:65534\"), so set this only for an image whose user resolves."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[0-9]*$", var.file_owner))
    error_message = "file_owner must be a numeric user id such as \"65534\", or \"\" for root-owned 0444 files."
  }
}

variable "healthcheck_command" {
  description = "Docker healthcheck test for the DS (exec form: the reference image is FROM scratch and has no shell). [] : no healthcheck (an image without a probe, such as the real DS); then wait must be false and the caller polls /readyz."
  type        = list(string)
  default     = ["CMD", "/datastorage", "healthcheck"]

  validation {
    condition     = length(var.healthcheck_command) == 0 || (length(var.healthcheck_command) >= 2 && contains(["CMD", "CMD-SHELL"], try(var.healthcheck_command[0], "")))
    error_message = "healthcheck_command must start with \"CMD\" (exec form) or \"CMD-SHELL\", followed by the command, or be [] for no healthcheck."
  }
}

variable "preflight_command" {
  description = "Full argv (entrypoint first, e.g. [\"/datastorage\", \"preflight\"]) of a one-shot job in the DS image that runs the DS startup checks with the same files and exits 0, or 1 with the DS's own failure line. The apply fails at once with that log instead of waiting for a health timeout. Empty list: no preflight job (e.g. for an image without such a mode)."
  type        = list(string)
  default     = []
}

variable "healthcheck_interval" {
  description = "How often Docker runs the readiness check (/readyz through healthcheck_command). Go duration."
  type        = string
  default     = "200ms"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,2}ms|[1-5]?[0-9]s)$", var.healthcheck_interval)) && var.healthcheck_interval != "0s"
    error_message = "healthcheck_interval must be 1ms-999ms written in ms (\"200ms\") or 1s-59s written in s (\"2s\"), the form Docker reports back (anything else gives a perpetual diff)."
  }
}

variable "wait" {
  description = "true (default): the apply returns only once the container is healthy (the docker provider looks at its health once a second, up to wait_timeout). false: the apply returns as soon as the container started; the caller must wait for /readyz itself (tfharness does, every 50 ms, and fails at once if the DS exits)."
  type        = bool
  default     = true

  validation {
    condition     = var.wait != null
    error_message = "wait must be true or false: null would silently drop the wait for /readyz."
  }
}

variable "wait_timeout" {
  description = "Seconds to wait for the container to turn healthy."
  type        = number
  default     = 60

  validation {
    condition     = var.wait_timeout >= 1 && var.wait_timeout == floor(var.wait_timeout)
    error_message = "wait_timeout must be a whole number of seconds, at least 1."
  }
}

variable "stop_grace_seconds" {
  description = "Seconds the DS gets to drain on destroy before it is killed (0: killed at once; fine for throwaway environments)."
  type        = number
  default     = 0

  validation {
    condition     = var.stop_grace_seconds == floor(var.stop_grace_seconds) && var.stop_grace_seconds >= 0 && var.stop_grace_seconds <= 300
    error_message = "stop_grace_seconds must be a whole number from 0 to 300."
  }
}

variable "labels" {
  description = "Labels put on the DS container (and the preflight job)."
  type        = map(string)
  default     = {}
}

variable "triggers" {
  description = "Values whose change replaces the DS (e.g. the migration job's id: a fresh database needs the DS startup's partitions again). Stored as labels dsenv.trigger.<key>; they also order the DS after those objects."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.triggers) : can(regex("^[a-z0-9][a-z0-9_.-]*$", k))])
    error_message = "triggers keys must be lower-case label-safe words such as \"migrate\"."
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

variable "kubeconfig" {
  description = "Kubeconfig of the Kubernetes API the DS checks tokens with (TokenReview, SubjectAccessReview): e.g. the authstandin module's kubeconfig output. Uploaded to /etc/datastorage/kubeconfig (0444) and named by KUBECONFIG. \"\" (default): none (the real DS then exits: it finds no in-cluster config)."
  type        = string
  default     = ""
}

variable "pod_namespace" {
  description = "POD_NAMESPACE of the DS: the namespace of its access checks (the authstandin module's namespace output). \"\" (default): not set."
  type        = string
  default     = ""

  validation {
    condition     = var.pod_namespace == "" || can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.pod_namespace))
    error_message = "pod_namespace must be a DNS label (lower-case letters, digits, '-'), or \"\"."
  }
}

variable "signer_cert_pem" {
  description = "PEM certificate uploaded as <signer_cert_dir>/tls.crt (0444). The real DS signs its exports with it and will not start without it. \"\" (default): none."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.signer_cert_pem == "" || strcontains(var.signer_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "signer_cert_pem must be a PEM certificate (-----BEGIN CERTIFICATE-----), or \"\"."
  }
}

variable "signer_key_pem" {
  description = "PEM RSA private key (PKCS#1 or PKCS#8) of signer_cert_pem, uploaded as <signer_cert_dir>/tls.key (0444: the DS runs as 65534 and uploads are root's). The real DS refuses any key that is not RSA."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.signer_key_pem == "" || (strcontains(var.signer_key_pem, "PRIVATE KEY-----") && !strcontains(var.signer_key_pem, "BEGIN EC PRIVATE KEY"))
    error_message = "signer_key_pem must be a PEM RSA private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY; the real DS refuses EC keys), or \"\"."
  }

  validation {
    condition     = (var.signer_key_pem == "") == (var.signer_cert_pem == "")
    error_message = "signer_cert_pem and signer_key_pem go together: set both or neither."
  }
}

variable "preflight_capture_logs" {
  description = "true (default): the apply captures the job's log (the docker provider follows it) to show it when the job fails. false: not captured (see the container's log instead); for Podman 4.3, whose log follow can miss the exit of a job that ends right after it starts and then never returns, hanging the apply."
  type        = bool
  default     = true
  nullable    = false
}
