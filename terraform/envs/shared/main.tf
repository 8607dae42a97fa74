# The persistent shared environment a team keeps running for days: the same composition as
# terraform/env (whose validations apply), with data in named volumes, a DS that gets time to
# drain its dead-letter queue when it is replaced, longer connect retries, and the
# dsenv.persistent label so that `dsenv sweep` leaves it alone. Keep the state (and its lock) in
# a backend the team shares; state locking stays on.

module "env" {
  source = "../../env"

  name_prefix       = var.name_prefix
  owner             = var.owner
  created           = var.created
  labels            = { "dsenv.persistent" = "true" }
  postgres_password = var.postgres_password
  redis_password    = var.redis_password
  api_token         = var.api_token

  postgres_durable               = true
  bind_address                   = var.bind_address
  postgres_host_port             = var.postgres_host_port
  redis_host_port                = var.redis_host_port
  datastorage_host_port          = var.datastorage_host_port
  datastorage_image              = var.datastorage_image
  datastorage_preflight          = var.datastorage_preflight
  datastorage_stop_grace_seconds = 10
  log_level                      = var.log_level
  connect_attempts               = 10
  connect_interval               = "2s"
}
