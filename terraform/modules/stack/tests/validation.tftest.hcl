# Every input a person can get wrong fails at plan with its own message.
# Run: terraform init && terraform test (in terraform/modules/stack). No Docker daemon needed.

mock_provider "docker" {}

variables {
  name_prefix       = "dsenv-test"
  owner             = "4242@testhost"
  created           = "1795689600"
  postgres_password = "pg-secret-1-0123456"
  redis_password    = "redis-secret-1-0123"
  api_token         = "token-1-0123456789"
}

run "valid_inputs_plan" {
  command = plan
}

run "prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Bad-Prefix"
  }

  expect_failures = [var.name_prefix]
}

run "prefix_too_long" {
  command = plan

  variables {
    name_prefix = "a234567890123456789012345678901234"
  }

  expect_failures = [var.name_prefix]
}

run "prefix_starts_with_digit" {
  command = plan

  variables {
    name_prefix = "1env"
  }

  expect_failures = [var.name_prefix]
}

run "prefix_underscore" {
  command = plan

  variables {
    name_prefix = "env_1"
  }

  expect_failures = [var.name_prefix]
}

run "postgres_port_70000" {
  command = plan

  variables {
    postgres_host_port = 70000
  }

  expect_failures = [var.postgres_host_port]
}

run "redis_port_negative" {
  command = plan

  variables {
    redis_host_port = -1
  }

  expect_failures = [var.redis_host_port]
}

run "ds_port_fraction" {
  command = plan

  variables {
    datastorage_host_port = 8080.5
  }

  expect_failures = [var.datastorage_host_port]
}

run "ds_health_port_70000" {
  command = plan

  variables {
    datastorage_health_host_port = 70000
  }

  expect_failures = [var.datastorage_health_host_port]
}

run "ds_metrics_port_70000" {
  command = plan

  variables {
    datastorage_metrics_host_port = 70000
  }

  expect_failures = [var.datastorage_metrics_host_port]
}

run "bind_address_hostname" {
  command = plan

  variables {
    bind_address = "localhost"
  }

  expect_failures = [var.bind_address]
}

run "bind_address_bad_ipv4" {
  command = plan

  variables {
    bind_address = "300.1.2.3"
  }

  expect_failures = [var.bind_address]
}

run "postgres_password_empty" {
  command = plan

  variables {
    postgres_password = ""
  }

  expect_failures = [var.postgres_password]
}

run "postgres_password_space" {
  command = plan

  variables {
    postgres_password = "two words"
  }

  expect_failures = [var.postgres_password]
}

run "redis_password_empty" {
  command = plan

  variables {
    redis_password = ""
  }

  expect_failures = [var.redis_password]
}

run "postgres_password_short" {
  command = plan

  variables {
    postgres_password = "0123456789abcde"
  }

  expect_failures = [var.postgres_password]
}

run "redis_password_short" {
  command = plan

  variables {
    redis_password = "0123456789abcde"
  }

  expect_failures = [var.redis_password]
}

run "api_token_short" {
  command = plan

  variables {
    api_token = "0123456789abcde"
  }

  expect_failures = [var.api_token]
}

run "api_token_empty" {
  command = plan

  variables {
    api_token = ""
  }

  expect_failures = [var.api_token]
}

run "log_level_unknown" {
  command = plan

  variables {
    log_level = "verbose"
  }

  expect_failures = [var.log_level]
}

run "postgres_user_uppercase" {
  command = plan

  variables {
    postgres_user = "DataStorage"
  }

  expect_failures = [var.postgres_user]
}

run "postgres_db_dash" {
  command = plan

  variables {
    postgres_db = "data-storage"
  }

  expect_failures = [var.postgres_db]
}

run "image_with_space" {
  command = plan

  variables {
    postgres_image = "postgres 16"
  }

  expect_failures = [var.postgres_image]
}

run "owner_without_host" {
  command = plan

  variables {
    owner = "12345"
  }

  expect_failures = [var.owner]
}

run "created_not_a_number" {
  command = plan

  variables {
    created = "yesterday"
  }

  expect_failures = [var.created]
}

run "labels_override_env" {
  command = plan

  variables {
    labels = { "dsenv.env" = "other" }
  }

  expect_failures = [var.labels]
}

run "extra_env_config_path" {
  command = plan

  variables {
    datastorage_extra_env = { CONFIG_PATH = "/tmp/x.yaml" }
  }

  expect_failures = [var.datastorage_extra_env]
}

run "extra_env_bad_name" {
  command = plan

  variables {
    datastorage_extra_env = { "BAD-NAME" = "x" }
  }

  expect_failures = [var.datastorage_extra_env]
}

run "mount_relative_source" {
  command = plan

  variables {
    datastorage_mounts = [{ source = "certs", target = "/etc/datastorage/certs" }]
  }

  expect_failures = [var.datastorage_mounts]
}

run "mount_hides_secrets" {
  command = plan

  variables {
    datastorage_mounts = [{ source = "/tmp/x", target = "/etc/datastorage/secrets" }]
  }

  expect_failures = [var.datastorage_mounts]
}

run "connect_attempts_zero" {
  command = plan

  variables {
    connect_attempts = 0
  }

  expect_failures = [var.connect_attempts]
}

run "connect_interval_no_unit" {
  command = plan

  variables {
    connect_interval = "200"
  }

  expect_failures = [var.connect_interval]
}

run "dlq_retry_interval_words" {
  command = plan

  variables {
    dlq_retry_interval = "one second"
  }

  expect_failures = [var.dlq_retry_interval]
}

run "migrations_dir_relative" {
  command = plan

  variables {
    migrations_dir = "migrations"
  }

  expect_failures = [var.migrations_dir]
}

run "file_owner_name" {
  command = plan

  variables {
    datastorage_file_owner = "nobody"
  }

  expect_failures = [var.datastorage_file_owner]
}

run "network_name_spaces" {
  command = plan

  variables {
    network_name = "my net"
  }

  expect_failures = [var.network_name]
}

run "ds_redis_addr_without_port" {
  command = plan

  variables {
    datastorage_redis_addr = "no-such-redis"
  }

  expect_failures = [var.datastorage_redis_addr]
}

run "ds_healthcheck_not_exec_form" {
  command = plan

  variables {
    datastorage_healthcheck_command = ["curl", "-f", "http://127.0.0.1:8081/readyz"]
  }

  expect_failures = [var.datastorage_healthcheck_command]
}

run "ds_wait_null_is_the_default" {
  command = plan

  variables {
    datastorage_wait = null
  }

  assert {
    condition     = var.datastorage_wait == true
    error_message = "null (what a root passes for a setting it leaves alone) must mean the default, true"
  }
}

# Issue 11: an image other than the reference DS brings its own schema, or it answers 202 and
# 500 on one it does not know: refused at plan, naming migrations_dir.
run "other_ds_image_without_migrations_dir" {
  command = plan

  variables {
    datastorage_image = "kubernaut/datastorage:local"
    signer_cert_pem   = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    signer_key_pem    = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
  }

  expect_failures = [var.migrations_dir]
}

run "other_ds_image_without_signing_pair" {
  command = plan

  variables {
    datastorage_image = "kubernaut/datastorage:local"
    migrations_dir    = "/tmp/its-migrations"
  }

  expect_failures = [var.signer_cert_pem]
}

# The real DS with what it needs plans (the DS module's own tests check the uploads and the env).
run "other_ds_image_with_what_it_needs" {
  command = plan

  variables {
    datastorage_image = "kubernaut/datastorage:local"
    migrations_dir    = "/tmp/its-migrations"
    signer_cert_pem   = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    signer_key_pem    = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    denied_token      = "denied-0123456789abcdef"
  }

  assert {
    condition     = module.datastorage.preflight_logs == null
    error_message = "the real DS has no preflight mode: no preflight job"
  }
  assert {
    condition     = module.kube_auth[0].namespace == "dsenv"
    error_message = "the stand-in runs beside the DS"
  }
}
