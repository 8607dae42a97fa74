# The Data Storage service: config.yaml and the secrets files are rendered from the inputs
# (templates/) and uploaded before the container starts; the apply waits for /readyz through
# the image's healthcheck (unless var.wait is false: then the caller does). An optional preflight job runs the DS startup once, so that a DS
# that cannot start fails the apply at once with its own log line (see README).

locals {
  config_dir  = "/etc/datastorage"
  secrets_dir = "/etc/datastorage/secrets"
  # The PostgreSQL and Redis secrets share one file (distinct keys, which the config names):
  # each upload is a copy into the created container, 60-100 ms on a loaded engine, and
  # they all stand between the DS's create and its start. The API tokens stay apart: every
  # key of that file is an accepted token.
  files = {
    config        = "${local.config_dir}/config.yaml"
    store_secrets = "${local.secrets_dir}/store-secrets.yaml"
    api_tokens    = "${local.secrets_dir}/api-tokens.yaml"
    kubeconfig    = "${local.config_dir}/kubeconfig"
  }
  secret_keys = {
    db_username    = "db_username"
    db_password    = "db_password"
    redis_password = "redis_password"
  }

  ports = { api = 8080, health = 8081, metrics = 9090 }

  config_yaml = templatefile("${path.module}/templates/config.yaml.tftpl", {
    log_level = lower(var.log_level)
    files     = local.files
    keys      = local.secret_keys
    server = {
      host             = "0.0.0.0"
      port             = local.ports.api
      health_port      = local.ports.health
      metrics_port     = local.ports.metrics
      read_timeout     = "30s"
      write_timeout    = "30s"
      shutdown_timeout = "10s"
      max_batch_size   = var.max_batch_size
      max_body_size    = 10485760 # bytes: an integer suits the real DS and ours
      signer_cert_dir  = var.signer_cert_dir
    }
    database = merge(var.database_settings, {
      host = var.postgres.host
      port = var.postgres.port
      name = var.postgres.name
      user = var.postgres.user
    })
    redis = {
      addr        = var.redis_addr
      dlq_max_len = var.dlq_max_len
    }
    startup = {
      connect_attempts = var.connect_attempts
      connect_interval = var.connect_interval
    }
    dlq = {
      retry_interval = var.dlq_retry_interval
      max_retries    = var.dlq_max_retries
    }
  })

  store_secrets_yaml = templatefile("${path.module}/templates/store-secrets.yaml.tftpl", {
    keys           = local.secret_keys
    username       = var.postgres.user
    password       = var.postgres_password
    redis_password = var.redis_password
  })
  api_tokens_yaml = templatefile("${path.module}/templates/api-tokens.yaml.tftpl", {
    tokens = var.api_tokens
  })

  # Secrets: read-only (0444, root-owned) by default; 0400 owned by file_owner when set (see
  # its description for why that is not the default). The config holds no secret.
  secret_files = {
    (local.files.store_secrets) = local.store_secrets_yaml
    (local.files.api_tokens)    = local.api_tokens_yaml
  }

  # Files that are not the DS's own secrets but must be readable by its user (65534) whatever
  # file_owner says: the kubeconfig (no credential in it) and the signing pair in
  # signer_cert_dir. Root-owned 0444: Docker cannot chown to a user a scratch image does not
  # resolve (see file_owner), and 65534 is the only user in the container.
  signing = var.signer_cert_pem != "" ? {
    "${var.signer_cert_dir}/tls.crt" = var.signer_cert_pem
    "${var.signer_cert_dir}/tls.key" = var.signer_key_pem
  } : {}
  readable_files = merge(
    var.kubeconfig != "" ? { (local.files.kubeconfig) = var.kubeconfig } : {},
    local.signing,
  )
  secret_mode  = var.file_owner == "" ? "0444" : "0400"
  secret_owner = var.file_owner == "" ? null : var.file_owner

  env = merge(var.extra_env, { CONFIG_PATH = local.files.config },
    var.kubeconfig != "" ? { KUBECONFIG = local.files.kubeconfig } : {},
  var.pod_namespace != "" ? { POD_NAMESPACE = var.pod_namespace } : {})
  labels = merge(var.labels, { for k, v in var.triggers : "dsenv.trigger.${k}" => v })

  # An image id (sha256:..., what tfharness passes after resolving the name through the

  # Docker API) is used as it is: no data source, whose lookup lists every local image.

  image_is_id = startswith(var.image, "sha256:")

  image_id = local.image_is_id ? var.image : var.pull_image ? docker_image.this[0].image_id : data.docker_image.this[0].id
}

data "docker_image" "this" {
  count = var.pull_image || local.image_is_id ? 0 : 1
  name  = var.image
}

resource "docker_image" "this" {
  count        = var.pull_image && !local.image_is_id ? 1 : 0
  name         = var.image
  keep_locally = true
}

# The DS startup (config, secrets, validation, PostgreSQL, Redis) as a one-shot job: the
# docker provider's `wait` only polls for "healthy" and cannot tell that a container has
# exited, so without this a DS that cannot start shows up as a blind timeout.
resource "docker_container" "preflight" {
  count = length(var.preflight_command) > 0 ? 1 : 0

  name  = "${var.name}-preflight"
  image = local.image_id
  # The whole argv, whatever the image's ENTRYPOINT is.
  entrypoint = slice(var.preflight_command, 0, 1)
  command    = slice(var.preflight_command, 1, length(var.preflight_command))
  env        = [for k in sort(keys(local.env)) : "${k}=${local.env[k]}"]

  upload {
    file        = local.files.config
    content     = local.config_yaml
    permissions = "0444"
  }

  dynamic "upload" {
    for_each = local.secret_files
    content {
      file        = upload.key
      content     = upload.value
      permissions = local.secret_mode
      owner       = local.secret_owner
      group       = local.secret_owner
    }
  }

  dynamic "upload" {
    for_each = local.readable_files
    content {
      file        = upload.key
      content     = upload.value
      permissions = "0444"
    }
  }

  dynamic "mounts" {
    for_each = var.mounts
    content {
      type      = "bind"
      source    = mounts.value.source
      target    = mounts.value.target
      read_only = mounts.value.read_only
    }
  }

  networks_advanced {
    name = var.network_name
  }

  must_run = false
  attach   = true
  logs     = var.preflight_capture_logs

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    # Podman reads back its smaller default capability set as a drop list (AUDIT_WRITE,
    # MKNOD, NET_RAW), which would replace the container on every plan. dsenv sets no
    # capabilities of its own.
    ignore_changes = [capabilities]

    postcondition {
      condition = self.exit_code == 0
      error_message = format(
        "the Data Storage service cannot start: %s\nLog of the preflight job %s (exit code %d):\n%s\nThe failed job stays in the state: once the cause is fixed, re-run it with terraform apply -replace=<its address>.",
        join("; ", [for l in split("\n", self.container_logs != null ? self.container_logs : "") :
          "${try(jsondecode(l).msg, l)}${try(" (${jsondecode(l).file})", "")}${try(": ${jsondecode(l).error}", "")}"
        if try(jsondecode(l).level, "") == "ERROR"]),
        "${var.name}-preflight", coalesce(self.exit_code, -1),
        self.container_logs != null ? self.container_logs : (var.preflight_capture_logs ? "(no log: the container did not run)" : "(not captured, preflight_capture_logs = false: see the container's log)"),
      )
    }
  }
}

resource "docker_container" "this" {
  name  = var.name
  image = local.image_id
  env   = [for k in sort(keys(local.env)) : "${k}=${local.env[k]}"]

  upload {
    file        = local.files.config
    content     = local.config_yaml
    permissions = "0444"
  }

  dynamic "upload" {
    for_each = local.secret_files
    content {
      file        = upload.key
      content     = upload.value
      permissions = local.secret_mode
      owner       = local.secret_owner
      group       = local.secret_owner
    }
  }

  dynamic "upload" {
    for_each = local.readable_files
    content {
      file        = upload.key
      content     = upload.value
      permissions = "0444"
    }
  }

  dynamic "mounts" {
    for_each = var.mounts
    content {
      type      = "bind"
      source    = mounts.value.source
      target    = mounts.value.target
      read_only = mounts.value.read_only
    }
  }

  networks_advanced {
    name    = var.network_name
    aliases = [var.alias]
  }

  # Ascending internal port order: the order the provider reads them back in.
  ports {
    internal = local.ports.api
    ip       = var.bind_address
    external = var.host_port == 0 ? null : var.host_port
  }
  ports {
    internal = local.ports.health
    ip       = var.bind_address
    external = var.health_host_port == 0 ? null : var.health_host_port
  }
  ports {
    internal = local.ports.metrics
    ip       = var.bind_address
    external = var.metrics_host_port == 0 ? null : var.metrics_host_port
  }

  # None when healthcheck_command is empty (an image without a probe, such as the real DS:
  # no shell, no subcommands): then the caller polls /readyz, as tfharness does.
  dynamic "healthcheck" {
    for_each = length(var.healthcheck_command) > 0 ? [1] : []
    content {
      test     = var.healthcheck_command
      interval = var.healthcheck_interval
      timeout  = "5s"
      retries  = 300
      # Explicit: 0s would inherit the image's HEALTHCHECK value and give a perpetual diff.
      start_period = "30s"
    }
  }

  wait                  = var.wait
  wait_timeout          = var.wait_timeout
  destroy_grace_seconds = var.stop_grace_seconds
  restart               = var.restart

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  depends_on = [docker_container.preflight]

  lifecycle {
    # Podman reads back its smaller default capability set as a drop list (AUDIT_WRITE,
    # MKNOD, NET_RAW), which would replace the container on every plan. dsenv sets no
    # capabilities of its own.
    ignore_changes = [capabilities]
    precondition {
      condition     = !var.wait || length(var.healthcheck_command) > 0
      error_message = "wait = true needs a healthcheck_command: with none (an image without a probe, such as the real DS) set wait = false and poll /readyz (tfharness does)."
    }
  }
}
