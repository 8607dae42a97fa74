# Plan-time tests of the shared environment (mocked docker provider: no Docker daemon).
# Run: terraform init && terraform test (in terraform/envs/shared); go test ./terraform runs it.

mock_provider "docker" {}

variables {
  created                       = "1795689600"
  postgres_password             = "0123456789abcdef0123"
  redis_password                = "fedcba9876543210fedc"
  api_token                     = "token-0123456789abcdef"
  postgres_host_port            = 15432
  redis_host_port               = 16379
  datastorage_host_port         = 18080
  datastorage_health_host_port  = 18081
  datastorage_metrics_host_port = 19090
}

run "durable_settings" {
  command = plan

  assert {
    condition     = module.stack.containers.postgres.name == "dsenv-shared-postgres" && output.volumes.postgres == docker_volume.postgres_data.name
    error_message = "PostgreSQL and Redis must keep their data in the volumes this module owns (and protects)."
  }

  assert {
    condition     = output.volumes == { postgres = "dsenv-shared-postgres-data", redis = "dsenv-shared-redis-data" }
    error_message = "volume names must follow name_prefix."
  }

  assert {
    condition     = contains([for l in docker_volume.postgres_data.labels : "${l.label}=${l.value}"], "dsenv.persistent=true")
    error_message = "the data volumes must carry dsenv.persistent=true so that dsenv sweep leaves them alone."
  }

  assert {
    condition     = contains([for l in docker_volume.postgres_data.labels : "${l.label}=${l.value}"], "dsenv.kind=shared")
    error_message = "every object must carry dsenv.kind=shared so that dsenv status lists it as the shared environment."
  }

  assert {
    condition     = contains([for l in docker_volume.redis_data.labels : "${l.label}=${l.value}"], "dsenv.env=dsenv-shared")
    error_message = "the data volumes must carry the dsenv.env label."
  }

  assert {
    condition     = strcontains(output.datastorage_config, "level: info")
    error_message = "the DS config must carry the log level."
  }
}

run "log_level_reaches_the_config" {
  command = plan

  variables {
    log_level = "debug"
  }

  assert {
    condition     = strcontains(output.datastorage_config, "level: debug")
    error_message = "log_level must reach the DS config."
  }
}

run "port_zero_refused" {
  command = plan

  variables {
    postgres_host_port = 0
  }

  expect_failures = [var.postgres_host_port]
}

run "owner_must_be_manual" {
  command = plan

  variables {
    owner = "4242@host"
  }

  expect_failures = [var.owner]
}

run "persistent_label_is_ours" {
  command = plan

  variables {
    labels = { "dsenv.persistent" = "false", team = "gw" }
  }

  assert {
    condition     = module.stack.labels["dsenv.persistent"] == "true" && module.stack.labels["team"] == "gw"
    error_message = "the shared environment is always dsenv.persistent=true (sweep leaves it alone), whatever labels says"
  }
}

run "settings_that_differ_from_terraform_env" {
  command = plan

  assert {
    condition = (
      yamldecode(output.datastorage_config).startup.connectAttempts == 10 &&
      yamldecode(output.datastorage_config).startup.connectInterval == "2s"
    )
    error_message = "the shared DS starts after healthy data stores, with the slower connect retries: ${output.datastorage_config}"
  }
}
