# The dsenv environment (tests, `make up`): the stack with its defaults, which are the test
# settings (tmpfs data unless postgres_durable, free host ports, no restart policy, the apply
# not polling PostgreSQL and Redis). Everything is in modules/stack; this root only forwards
# its inputs, so that tfharness and `make up` keep their variable and output names.

module "stack" {
  source = "../modules/stack"

  name_prefix                     = var.name_prefix
  owner                           = var.owner
  created                         = var.created
  labels                          = var.labels
  postgres_image                  = var.postgres_image
  redis_image                     = var.redis_image
  datastorage_image               = var.datastorage_image
  migrate_image                   = var.migrate_image
  pull_images                     = var.pull_images
  postgres_password               = var.postgres_password
  redis_password                  = var.redis_password
  api_token                       = var.api_token
  postgres_user                   = var.postgres_user
  postgres_db                     = var.postgres_db
  postgres_durable                = var.postgres_durable
  redis_durable                   = var.redis_durable
  bind_address                    = var.bind_address
  postgres_host_port              = var.postgres_host_port
  redis_host_port                 = var.redis_host_port
  datastorage_host_port           = var.datastorage_host_port
  datastorage_health_host_port    = var.datastorage_health_host_port
  datastorage_metrics_host_port   = var.datastorage_metrics_host_port
  log_level                       = var.log_level
  datastorage_extra_env           = var.datastorage_extra_env
  datastorage_mounts              = var.datastorage_mounts
  datastorage_file_owner          = var.datastorage_file_owner
  datastorage_preflight           = var.datastorage_preflight
  job_logs                        = var.job_logs
  datastorage_wait                = var.datastorage_wait
  migrations_dir                  = var.migrations_dir
  connect_attempts                = var.connect_attempts
  connect_interval                = var.connect_interval
  dlq_retry_interval              = var.dlq_retry_interval
  network_name                    = var.network_name
  datastorage_redis_addr          = var.datastorage_redis_addr
  datastorage_stop_grace_seconds  = var.datastorage_stop_grace_seconds
  datastorage_healthcheck_command = var.datastorage_healthcheck_command
  denied_token                    = var.denied_token
  signer_cert_pem                 = var.signer_cert_pem
  signer_key_pem                  = var.signer_key_pem
  auth_standin_image              = var.auth_standin_image
  kube_namespace                  = var.kube_namespace
  kube_api_url                    = var.kube_api_url
  auth_backend                    = var.auth_backend
  kube_pki                        = var.kube_pki
  kube_extra_args                 = var.kube_extra_args
}

# Where the resources lived before modules/stack: an environment applied by an older dsenv
# (`make up`) moves over with nothing destroyed.
moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.postgres
  to   = module.stack.module.postgres
}

moved {
  from = module.redis
  to   = module.stack.module.redis
}

moved {
  from = module.migrate
  to   = module.stack.module.migrate
}

moved {
  from = module.datastorage
  to   = module.stack.module.datastorage
}
