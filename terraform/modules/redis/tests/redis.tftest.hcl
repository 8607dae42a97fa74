# Plan-time checks of the Redis module with a mocked provider (no Docker daemon).
# Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name         = "t-redis"
  network_name = "t-net"
  password     = "rdpw-9c1e"
  labels       = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
}

run "config_file_as_the_command_argument" {
  command = plan

  assert {
    condition     = docker_container.this.command == tolist(["redis-server", "/usr/local/etc/redis/redis.conf"])
    error_message = "redis-server must get the uploaded config file (works for the official image and dsenv/redis)"
  }

  assert {
    condition     = strcontains(nonsensitive(one([for u in docker_container.this.upload : u.content if endswith(u.file, "redis.conf")])), "requirepass rdpw-9c1e\n")
    error_message = "the config must set requirepass"
  }

  assert {
    condition     = strcontains(nonsensitive(one([for u in docker_container.this.upload : u.content if endswith(u.file, "redis.conf")])), "appendonly no\nsave \"\"\n")
    error_message = "throwaway Redis must not persist"
  }

  assert {
    condition     = alltrue([for u in docker_container.this.upload : u.permissions == "0444"])
    error_message = "the files must be read-only for the redis user"
  }

  assert {
    condition     = !strcontains(join(" ", concat(docker_container.this.command, tolist(docker_container.this.healthcheck[0].test))), "rdpw-9c1e")
    error_message = "the password must not appear in arguments or the healthcheck"
  }

  assert {
    condition     = strcontains(docker_container.this.healthcheck[0].test[1], "redis-cli") && strcontains(docker_container.this.healthcheck[0].test[1], "ping") && strcontains(docker_container.this.healthcheck[0].test[1], "REDISCLI_AUTH")
    error_message = "readiness must be an authenticated PING"
  }

  assert {
    condition     = one(docker_container.this.ports).internal == 6379 && one(docker_container.this.ports).ip == "127.0.0.1" && contains(one(docker_container.this.networks_advanced).aliases, "redis")
    error_message = "6379 on 127.0.0.1, alias redis"
  }

  assert {
    condition     = output.internal_addr == "redis:6379"
    error_message = "network-side address must be redis:6379"
  }
}

run "durable_redis_keeps_an_aof_in_a_volume" {
  command = plan

  variables {
    durable = true
  }

  assert {
    condition     = length(docker_volume.data) == 1 && strcontains(nonsensitive(one([for u in docker_container.this.upload : u.content if endswith(u.file, "redis.conf")])), "appendonly yes")
    error_message = "durable Redis needs a volume and appendonly"
  }
}

run "empty_password" {
  command = plan
  variables {
    password = ""
  }
  expect_failures = [var.password]
}

run "password_with_space" {
  command = plan
  variables {
    password = "a b"
  }
  expect_failures = [var.password]
}

run "bad_alias" {
  command = plan
  variables {
    alias = "Redis_1"
  }
  expect_failures = [var.alias]
}
