# The dsenv environment: one network, PostgreSQL and Redis in parallel, the migration job once
# PostgreSQL answers, then the DS (after an optional preflight run) once the job exited 0.
# Everything carries the dsenv.* labels; host ports are free ones chosen by Docker.

locals {
  labels = merge(var.labels, {
    "dsenv.env"     = var.name_prefix
    "dsenv.owner"   = var.owner
    "dsenv.created" = var.created
  })

  network_name  = var.network_name != "" ? var.network_name : module.network[0].name
  redis_durable = coalesce(var.redis_durable, var.postgres_durable)
}

module "network" {
  source = "../modules/network"
  count  = var.network_name == "" ? 1 : 0

  name   = "${var.name_prefix}-net"
  labels = local.labels
}

module "postgres" {
  source = "../modules/postgres"

  name         = "${var.name_prefix}-postgres"
  network_name = local.network_name
  image        = var.postgres_image
  pull_image   = var.pull_images
  user         = var.postgres_user
  password     = var.postgres_password
  db           = var.postgres_db
  bind_address = var.bind_address
  host_port    = var.postgres_host_port
  durable      = var.postgres_durable
  labels       = local.labels
  # The apply does not stop to poll the health status (the provider polls once a second):
  # the migration job waits for PostgreSQL to answer SELECT 1 itself, every 250 ms. Nothing
  # waits on the healthcheck, so it runs once a second: each run is a `docker exec`, whose CPU
  # adds up when several environments run at once.
  wait                 = false
  healthcheck_interval = "1s"
}

module "redis" {
  source = "../modules/redis"

  name         = "${var.name_prefix}-redis"
  network_name = local.network_name
  image        = var.redis_image
  pull_image   = var.pull_images
  password     = var.redis_password
  bind_address = var.bind_address
  host_port    = var.redis_host_port
  durable      = local.redis_durable
  labels       = local.labels
  # Not polled either: the DS preflight (or the DS itself) PINGs Redis with its connect retries.
  wait                 = false
  healthcheck_interval = "1s"
}

module "migrate" {
  source = "../modules/migrate"

  name         = "${var.name_prefix}-migrate"
  network_name = local.network_name
  image        = var.migrate_image
  pull_image   = var.pull_images
  dsn          = module.postgres.dsn_internal
  # A PostgreSQL that does not come up fails the apply after this, with the job's log.
  wait_for_database = "30s"
  migrations_dir    = var.migrations_dir == "" ? "" : "/migrations"
  mounts            = var.migrations_dir == "" ? [] : [{ source = var.migrations_dir, target = "/migrations", read_only = true }]
  labels            = local.labels
  # Runs once PostgreSQL is up, and again whenever PostgreSQL is replaced.
  triggers = { postgres = module.postgres.container_id }
}

module "datastorage" {
  source = "../modules/datastorage"

  name              = "${var.name_prefix}-datastorage"
  network_name      = local.network_name
  image             = var.datastorage_image
  pull_image        = var.pull_images
  bind_address      = var.bind_address
  host_port         = var.datastorage_host_port
  health_host_port  = var.datastorage_health_host_port
  metrics_host_port = var.datastorage_metrics_host_port
  log_level         = var.log_level

  postgres = {
    host = module.postgres.internal_host
    port = module.postgres.internal_port
    name = var.postgres_db
    user = var.postgres_user
  }
  postgres_password = var.postgres_password
  redis_addr        = var.datastorage_redis_addr != "" ? var.datastorage_redis_addr : module.redis.internal_addr
  redis_password    = var.redis_password
  api_tokens        = { dsenv = var.api_token }

  connect_attempts   = var.connect_attempts
  connect_interval   = var.connect_interval
  dlq_retry_interval = var.dlq_retry_interval
  extra_env          = var.datastorage_extra_env
  mounts             = var.datastorage_mounts
  file_owner         = var.datastorage_file_owner
  preflight_command  = var.datastorage_preflight ? ["/datastorage", "preflight"] : []
  stop_grace_seconds = var.datastorage_stop_grace_seconds
  # The apply waits for this one unless datastorage_wait is false (tfharness polls /readyz
  # itself); the provider looks once a second, so 250 ms is enough.
  wait                 = var.datastorage_wait
  healthcheck_interval = "250ms"
  healthcheck_command  = var.datastorage_healthcheck_command
  labels               = local.labels

  # Starts after the migrations exited 0 and Redis answers; replaced when they are.
  triggers = {
    migrate = module.migrate.container_id
    redis   = module.redis.container_id
  }
}
