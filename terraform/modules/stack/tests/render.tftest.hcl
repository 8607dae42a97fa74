# The composition: what the root module hands each module, at plan time with a mocked
# provider (no Docker daemon). Run: terraform init && terraform test (in terraform/modules/stack).

mock_provider "docker" {}

variables {
  name_prefix       = "dsenv-test"
  owner             = "4242@testhost"
  created           = "1795689600"
  postgres_password = "pgpw-7f3a00000000"
  redis_password    = "rdpw-9c1e00000000"
  api_token         = "tok-5d2b00000000"
}

run "ds_config_points_at_the_network_aliases" {
  command = plan

  assert {
    condition = (
      yamldecode(module.datastorage.config_yaml).database.host == "postgres" &&
      yamldecode(module.datastorage.config_yaml).database.port == 5432 &&
      yamldecode(module.datastorage.config_yaml).database.name == "datastorage" &&
      yamldecode(module.datastorage.config_yaml).database.user == "datastorage" &&
      yamldecode(module.datastorage.config_yaml).redis.addr == "redis:6379"
    )
    error_message = "the DS must reach postgres:5432 and redis:6379 by alias: ${module.datastorage.config_yaml}"
  }

  assert {
    condition = (
      yamldecode(module.datastorage.config_yaml).startup.connectAttempts == 15 &&
      yamldecode(module.datastorage.config_yaml).startup.connectInterval == "200ms" &&
      yamldecode(module.datastorage.config_yaml).dlq.retryInterval == "1s" &&
      yamldecode(module.datastorage.config_yaml).logging.level == "info"
    )
    error_message = "root defaults not rendered: ${module.datastorage.config_yaml}"
  }

  assert {
    condition     = nonsensitive(module.postgres.dsn_internal) == "postgres://datastorage:pgpw-7f3a00000000@postgres:5432/datastorage?sslmode=disable"
    error_message = "the migration job's DSN must use the network alias"
  }

  assert {
    condition     = output.env_id == "dsenv-test" && output.network_name == "dsenv-test-net"
    error_message = "environment id and network name follow name_prefix"
  }

  assert {
    condition     = output.postgres_host == "127.0.0.1" && output.redis_host == "127.0.0.1"
    error_message = "host-side addresses are the bind address"
  }
}

run "inputs_reach_the_ds_config" {
  command = plan

  variables {
    log_level          = "warn"
    connect_attempts   = 3
    connect_interval   = "50ms"
    dlq_retry_interval = "100ms"
    postgres_user      = "audit"
    postgres_db        = "audit_db"
  }

  assert {
    condition = (
      yamldecode(module.datastorage.config_yaml).logging.level == "warn" &&
      yamldecode(module.datastorage.config_yaml).startup.connectAttempts == 3 &&
      yamldecode(module.datastorage.config_yaml).startup.connectInterval == "50ms" &&
      yamldecode(module.datastorage.config_yaml).dlq.retryInterval == "100ms" &&
      yamldecode(module.datastorage.config_yaml).database.user == "audit" &&
      yamldecode(module.datastorage.config_yaml).database.name == "audit_db"
    )
    error_message = "inputs not rendered: ${module.datastorage.config_yaml}"
  }
}

run "existing_network_skips_the_network_module" {
  command = plan

  variables {
    network_name = "shared-net"
  }

  assert {
    condition     = length(module.network) == 0 && output.network_name == "shared-net"
    error_message = "with network_name set no network is created"
  }
}

run "durable_volumes" {
  command = plan

  variables {
    postgres_durable = true
  }

  assert {
    condition     = module.postgres.volume_name == "dsenv-test-postgres-data" && module.redis.volume_name == "dsenv-test-redis-data"
    error_message = "postgres_durable gives PostgreSQL (and by default Redis) a named volume"
  }
}

run "not_durable_by_default" {
  command = plan

  assert {
    condition     = module.postgres.volume_name == null && module.redis.volume_name == null
    error_message = "throwaway environments have no volumes"
  }
}

run "ds_redis_addr_override" {
  command = plan

  variables {
    datastorage_redis_addr = "no-such-redis:6379"
  }

  assert {
    condition     = yamldecode(module.datastorage.config_yaml).redis.addr == "no-such-redis:6379"
    error_message = "datastorage_redis_addr must reach the DS config"
  }
}
