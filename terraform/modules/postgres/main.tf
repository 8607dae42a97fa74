# PostgreSQL with the official image's environment contract. The password arrives as an
# uploaded file (POSTGRES_PASSWORD_FILE); readiness is pg_isready over TCP plus a real query.

locals {
  data_dir      = "/var/lib/postgresql/data"
  password_file = "/etc/dsenv/postgres-password"

  # Test tuning: nothing here needs to survive a crash.
  fast_args = var.durable ? [] : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
  command   = concat(["postgres"], flatten([for a in concat(local.fast_args, var.extra_args) : ["-c", a]]))

  # An image id (sha256:..., what tfharness passes after resolving the name through the

  # Docker API) is used as it is: no data source, whose lookup lists every local image.

  image_is_id = startswith(var.image, "sha256:")

  image_id = local.image_is_id ? var.image : var.pull_image ? docker_image.this[0].image_id : data.docker_image.this[0].id

  # The data volume: the caller's (var.volume_name) or the module's own, only when durable.
  volume = !var.durable ? null : (var.volume_name != "" ? var.volume_name : docker_volume.data[0].name)

  # The test runs over TCP like a client would; psql reads the password from the file so
  # that it never shows up in the container's configuration.
  healthcheck = join(" && ", [
    "pg_isready -q -h 127.0.0.1 -p 5432 -U ${var.user} -d ${var.db}",
    "PGPASSWORD=\"$(cat ${local.password_file})\" psql -h 127.0.0.1 -p 5432 -U ${var.user} -d ${var.db} -XAtqc 'SELECT 1' >/dev/null",
  ])
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
  command = local.command
  env = [
    "POSTGRES_USER=${var.user}",
    "POSTGRES_DB=${var.db}",
    "POSTGRES_PASSWORD_FILE=${local.password_file}",
    "PGDATA=${local.data_dir}",
  ]

  # Read-only for everyone: the official image reads it as root, dsenv/postgres as postgres.
  upload {
    file        = local.password_file
    content     = var.password
    permissions = "0444"
  }

  tmpfs = var.durable ? {} : { (local.data_dir) = "rw" }

  dynamic "volumes" {
    for_each = local.volume == null ? [] : [local.volume]
    content {
      volume_name    = volumes.value
      container_path = local.data_dir
    }
  }

  networks_advanced {
    name    = var.network_name
    aliases = [var.alias]
  }

  ports {
    internal = 5432
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

  wait         = var.wait
  wait_timeout = var.wait_timeout
  restart      = var.restart
  # Tests throw the data away: no shutdown checkpoint needed.
  destroy_grace_seconds = var.durable ? 10 : 0

  dynamic "labels" {
    for_each = var.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    # Podman reads back its smaller default capability set as a drop list and the tmpfs
    # options normalised ("rw,rprivate,nosuid,nodev,tmpcopyup"): either would replace the
    # container on every plan. dsenv sets no capabilities; the tmpfs follows var.durable,
    # whose change replaces the container through its volumes anyway.
    ignore_changes = [capabilities, tmpfs]
  }
}
