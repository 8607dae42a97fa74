# Redis (the DS dead-letter queue). All settings, the password included, live in an uploaded
# config file passed as the command argument: that works for dsenv/redis:7 and the official
# image alike, and keeps the password out of the environment and the process arguments.

locals {
  config_dir    = "/usr/local/etc/redis"
  config_file   = "${local.config_dir}/redis.conf"
  password_file = "${local.config_dir}/password"

  # An image id (sha256:..., what tfharness passes after resolving the name through the

  # Docker API) is used as it is: no data source, whose lookup lists every local image.

  image_is_id = startswith(var.image, "sha256:")

  image_id = local.image_is_id ? var.image : var.pull_image ? docker_image.this[0].image_id : data.docker_image.this[0].id

  # The data volume: the caller's (var.volume_name) or the module's own, only when durable.
  volume = !var.durable ? null : (var.volume_name != "" ? var.volume_name : docker_volume.data[0].name)

  persistence = var.durable ? [
    "dir /data",
    "appendonly yes",
    "appendfsync everysec",
    "save 60 1",
    ] : [
    "appendonly no",
    "save \"\"",
  ]

  config = join("\n", concat([
    "# rendered by dsenv (terraform/modules/redis)",
    "bind 0.0.0.0",
    "port 6379",
    "protected-mode no",
    "requirepass ${var.password}",
  ], local.persistence, [""]))

  healthcheck = "REDISCLI_AUTH=\"$(cat ${local.password_file})\" redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"
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

resource "docker_volume" "data" {
  count = var.durable && var.volume_name == "" ? 1 : 0
  name  = "${var.name}-data"

  dynamic "labels" {
    for_each = var.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  # The provider cannot relabel a volume (labels force a new one): a changed owner or extra
  # label must never cost the data. The volume keeps the labels it was created with.
  lifecycle {
    ignore_changes = [labels]
  }
}

resource "docker_container" "this" {
  name    = var.name
  image   = local.image_id
  command = ["redis-server", local.config_file]

  # 0444: the server runs as the image's redis user, the files are uploaded as root.
  upload {
    file        = local.config_file
    content     = local.config
    permissions = "0444"
  }

  upload {
    file        = local.password_file
    content     = var.password
    permissions = "0444"
  }

  dynamic "volumes" {
    for_each = local.volume == null ? [] : [local.volume]
    content {
      volume_name    = volumes.value
      container_path = "/data"
    }
  }

  networks_advanced {
    name    = var.network_name
    aliases = [var.alias]
  }

  ports {
    internal = 6379
    ip       = var.bind_address
    external = var.host_port == 0 ? null : var.host_port
  }

  healthcheck {
    test     = ["CMD-SHELL", local.healthcheck]
    interval = var.healthcheck_interval
    timeout  = "5s"
    retries  = 300
    # Explicit: 0s would inherit the image's HEALTHCHECK value and give a perpetual diff.
    start_period = "30s"
  }

  wait                  = var.wait
  wait_timeout          = var.wait_timeout
  restart               = var.restart
  destroy_grace_seconds = var.durable ? 10 : 0

  dynamic "labels" {
    for_each = var.labels
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
  }
}
