# Plan-time checks of the PostgreSQL module with a mocked provider (no Docker daemon).
# Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name         = "t-postgres"
  network_name = "t-net"
  password     = "pgpw-7f3a"
  labels       = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
}

run "throwaway_data_on_tmpfs_with_fsync_off" {
  command = plan

  assert {
    condition     = docker_container.this.tmpfs == tomap({ "/var/lib/postgresql/data" = "rw" }) && length(docker_volume.data) == 0
    error_message = "non-durable data must live on a tmpfs at PGDATA, with no volume"
  }

  assert {
    condition     = docker_container.this.command == tolist(["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
    error_message = "fsync, synchronous_commit and full_page_writes must be off for throwaway data"
  }
}

run "durable_data_in_a_labelled_volume" {
  command = plan

  variables {
    durable    = true
    extra_args = ["max_connections=200"]
  }

  assert {
    condition     = length(docker_volume.data) == 1 && docker_volume.data[0].name == "t-postgres-data"
    error_message = "durable data needs a named volume"
  }

  assert {
    condition     = contains([for l in docker_volume.data[0].labels : "${l.label}=${l.value}"], "dsenv.env=t")
    error_message = "the volume must carry the labels"
  }

  assert {
    condition     = docker_container.this.command == tolist(["postgres", "-c", "max_connections=200"]) && length(docker_container.this.tmpfs) == 0
    error_message = "durable: no tmpfs and no fsync tuning"
  }
}

run "password_only_as_a_file" {
  command = plan

  assert {
    condition     = contains(docker_container.this.env, "POSTGRES_PASSWORD_FILE=/etc/dsenv/postgres-password") && length([for e in docker_container.this.env : e if startswith(e, "POSTGRES_PASSWORD=")]) == 0
    error_message = "the password must come from POSTGRES_PASSWORD_FILE, never POSTGRES_PASSWORD"
  }

  assert {
    condition     = nonsensitive(one(docker_container.this.upload).content) == "pgpw-7f3a" && one(docker_container.this.upload).permissions == "0444"
    error_message = "the password file must be uploaded read-only"
  }

  assert {
    condition     = !strcontains(join(" ", docker_container.this.healthcheck[0].test), "pgpw-7f3a")
    error_message = "the healthcheck must not embed the password"
  }
}

run "readiness_and_ports" {
  command = plan

  assert {
    condition     = strcontains(docker_container.this.healthcheck[0].test[1], "pg_isready -q -h 127.0.0.1") && strcontains(docker_container.this.healthcheck[0].test[1], "SELECT 1")
    error_message = "readiness must be pg_isready over TCP plus a query"
  }

  assert {
    condition     = docker_container.this.wait == true && docker_container.this.healthcheck[0].interval == "200ms"
    error_message = "the apply waits for health, polled every 200ms"
  }

  assert {
    condition     = one(docker_container.this.ports).internal == 5432 && one(docker_container.this.ports).ip == "127.0.0.1"
    error_message = "5432 must be published on 127.0.0.1"
  }

  assert {
    condition     = contains(one(docker_container.this.networks_advanced).aliases, "postgres")
    error_message = "PostgreSQL must be reachable as postgres on the network"
  }

  assert {
    condition     = nonsensitive(output.dsn_internal) == "postgres://datastorage:pgpw-7f3a@postgres:5432/datastorage?sslmode=disable"
    error_message = "network-side DSN wrong: ${nonsensitive(output.dsn_internal)}"
  }
}

run "password_is_url_encoded_in_dsns" {
  command = plan

  variables {
    password = "a/b+c=d"
  }

  assert {
    condition     = nonsensitive(output.dsn_internal) == "postgres://datastorage:a%2Fb%2Bc%3Dd@postgres:5432/datastorage?sslmode=disable"
    error_message = "the password must be URL-encoded: ${nonsensitive(output.dsn_internal)}"
  }
}

run "bad_user" {
  command = plan
  variables {
    user = "Robert'); DROP"
  }
  expect_failures = [var.user]
}

run "bad_extra_arg" {
  command = plan
  variables {
    extra_args = ["-c fsync=on"]
  }
  expect_failures = [var.extra_args]
}

run "bad_bind_address" {
  command = plan
  variables {
    bind_address = "localhost"
  }
  expect_failures = [var.bind_address]
}

run "port_70000" {
  command = plan
  variables {
    host_port = 70000
  }
  expect_failures = [var.host_port]
}

run "empty_password" {
  command = plan
  variables {
    password = ""
  }
  expect_failures = [var.password]
}
