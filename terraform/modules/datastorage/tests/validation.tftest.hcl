# Inputs a person can get wrong fail at plan. Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name         = "t-datastorage"
  network_name = "t-net"
  postgres = {
    host = "postgres"
    name = "audit"
    user = "ds"
  }
  postgres_password = "pg-secret"
  redis_addr        = "redis:6379"
  redis_password    = ""
  api_tokens        = { ci = "tok-1" }
}

run "empty_redis_password_means_no_auth" {
  command = plan
}

run "log_level_unknown" {
  command = plan
  variables {
    log_level = "trace"
  }
  expect_failures = [var.log_level]
}

run "redis_addr_without_port" {
  command = plan
  variables {
    redis_addr = "redis"
  }
  expect_failures = [var.redis_addr]
}

run "postgres_password_empty" {
  command = plan
  variables {
    postgres_password = ""
  }
  expect_failures = [var.postgres_password]
}

run "no_api_token" {
  command = plan
  variables {
    api_tokens = {}
  }
  expect_failures = [var.api_tokens]
}

run "empty_api_token" {
  command = plan
  variables {
    api_tokens = { ci = "" }
  }
  expect_failures = [var.api_tokens]
}

run "healthcheck_not_exec_form" {
  command = plan
  variables {
    healthcheck_command = ["/datastorage", "healthcheck"]
  }
  expect_failures = [var.healthcheck_command]
}

run "healthcheck_interval_not_canonical" {
  command = plan
  variables {
    healthcheck_interval = "1.5s"
  }
  expect_failures = [var.healthcheck_interval]
}

run "mount_hides_config" {
  command = plan
  variables {
    mounts = [{ source = "/tmp/x", target = "/etc/datastorage/" }]
  }
  expect_failures = [var.mounts]
}

run "ssl_mode_unknown" {
  command = plan
  variables {
    database_settings = { ssl_mode = "on" }
  }
  expect_failures = [var.database_settings]
}

run "duration_without_unit" {
  command = plan
  variables {
    database_settings = { conn_max_lifetime = "300" }
  }
  expect_failures = [var.database_settings]
}

run "idle_above_open" {
  command = plan
  variables {
    database_settings = { max_open_conns = 2, max_idle_conns = 5 }
  }
  expect_failures = [var.database_settings]
}

run "port_70000" {
  command = plan
  variables {
    metrics_host_port = 70000
  }
  expect_failures = [var.metrics_host_port]
}

run "connect_interval_no_unit" {
  command = plan
  variables {
    connect_interval = "2"
  }
  expect_failures = [var.connect_interval]
}

run "file_owner_name" {
  command = plan
  variables {
    file_owner = "nobody"
  }
  expect_failures = [var.file_owner]
}

run "wait_null" {
  command = plan
  variables {
    wait = null
  }
  expect_failures = [var.wait]
}
