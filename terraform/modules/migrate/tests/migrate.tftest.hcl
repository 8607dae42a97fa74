# Plan-time checks of the migration job with a mocked provider (no Docker daemon).
# Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name         = "t-migrate"
  network_name = "t-net"
  dsn          = "postgres://ds:pgpw-7f3a@postgres:5432/audit?sslmode=disable"
  labels       = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
  triggers     = { postgres = "pgid" }
}

run "one_shot_job_with_the_dsn_in_a_file" {
  command = plan

  assert {
    condition     = docker_container.this.must_run == false && docker_container.this.attach == true && docker_container.this.logs == true
    error_message = "the job must run to completion inside the apply and keep its logs"
  }

  assert {
    condition     = contains(docker_container.this.env, "DSMIGRATE_DSN_FILE=/etc/dsmigrate/dsn") && length([for e in docker_container.this.env : e if strcontains(e, "pgpw")]) == 0
    error_message = "the DSN must come from DSMIGRATE_DSN_FILE, never the environment"
  }

  assert {
    condition     = one(docker_container.this.upload).permissions == "0444" && one(docker_container.this.upload).owner == null
    error_message = "the DSN file must be uploaded read-only"
  }

  assert {
    condition     = contains([for l in docker_container.this.labels : "${l.label}=${l.value}"], "dsenv.trigger.postgres=pgid")
    error_message = "triggers must become labels (a new PostgreSQL re-runs the job)"
  }

  assert {
    condition     = length(docker_container.this.mounts) == 0 && length([for e in docker_container.this.env : e if startswith(e, "DSMIGRATE_DIR=")]) == 0
    error_message = "by default the embedded migrations run"
  }
}

run "migrations_from_a_mounted_dir" {
  command = plan

  variables {
    migrations_dir = "/migrations"
    mounts         = [{ source = "/tmp/broken-migrations", target = "/migrations" }]
  }

  assert {
    condition     = contains(docker_container.this.env, "DSMIGRATE_DIR=/migrations") && one(docker_container.this.mounts).read_only == true
    error_message = "migrations_dir must set DSMIGRATE_DIR and the mount must be read-only"
  }
}

run "dsn_not_a_url" {
  command = plan
  variables {
    dsn = "host=postgres user=ds"
  }
  expect_failures = [var.dsn]
}

run "wait_without_unit" {
  command = plan
  variables {
    wait_for_database = "60"
  }
  expect_failures = [var.wait_for_database]
}

run "relative_migrations_dir" {
  command = plan
  variables {
    migrations_dir = "migrations"
  }
  expect_failures = [var.migrations_dir]
}
