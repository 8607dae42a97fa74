# The one-shot migration job. The apply blocks until it exits (attach); a non-zero exit code
# fails the apply at once with the job's own log in the error (postcondition).

locals {
  dsn_file = "/etc/dsmigrate/dsn"
  # An image id (sha256:..., what tfharness passes after resolving the name through the
  # Docker API) is used as it is: no data source, whose lookup lists every local image.
  image_is_id = startswith(var.image, "sha256:")
  image_id    = local.image_is_id ? var.image : var.pull_image ? docker_image.this[0].image_id : data.docker_image.this[0].id

  env = merge(var.extra_env, {
    DSMIGRATE_DSN_FILE = local.dsn_file
    DSMIGRATE_WAIT     = var.wait_for_database
    }, var.migrations_dir == "" ? {} : {
    DSMIGRATE_DIR = var.migrations_dir
  })

  labels = merge(var.labels, { for k, v in var.triggers : "dsenv.trigger.${k}" => v })
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

resource "docker_container" "this" {
  name  = var.name
  image = local.image_id
  env   = [for k in sort(keys(local.env)) : "${k}=${local.env[k]}"]

  upload {
    file        = local.dsn_file
    content     = var.dsn
    permissions = var.file_owner == "" ? "0444" : "0400"
    owner       = var.file_owner == "" ? null : var.file_owner
    group       = var.file_owner == "" ? null : var.file_owner
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

  # Run to completion inside the apply and keep the exited container (its exit code and
  # logs) until destroy.
  must_run = false
  attach   = true
  logs     = var.capture_logs

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
        "migration job %s exited with code %d: %s\nIts log:\n%s\nThe failed job stays in the state: once the cause is fixed, re-run it with terraform apply -replace=<its address>.",
        var.name, coalesce(self.exit_code, -1),
        join("; ", [for l in split("\n", self.container_logs != null ? self.container_logs : "") :
          "${try(jsondecode(l).msg, l)}${try(" (${jsondecode(l).file})", "")}${try(": ${jsondecode(l).error}", "")}"
        if try(jsondecode(l).level, "") == "ERROR"]),
        self.container_logs != null ? self.container_logs : (var.capture_logs ? "(no log: the container did not run)" : "(not captured, capture_logs = false: see the container's log)"),
      )
    }
  }
}
