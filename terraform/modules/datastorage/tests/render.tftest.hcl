# The rendered config and secrets files, the uploads and the container settings, at plan time
# with a mocked provider (no Docker daemon). Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name         = "t-datastorage"
  network_name = "t-net"
  postgres = {
    host = "postgres"
    name = "audit"
    user = "ds"
  }
  postgres_password = "pgpw-7f3a"
  redis_addr        = "redis:6379"
  redis_password    = "rdpw-9c1e"
  api_tokens        = { ci = "tok-1", gateway = "tok-2" }
  labels            = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
  triggers          = { migrate = "abc" }
}

run "config_carries_every_key_the_real_ds_requires" {
  command = plan

  assert {
    condition = alltrue([for k in ["host", "port", "healthPort", "metricsPort", "readTimeout", "writeTimeout", "shutdownTimeout", "maxBatchSize", "maxBodySize", "signerCertDir"] :
    contains(keys(yamldecode(output.config_yaml).server), k)])
    error_message = "server section lacks a key: ${output.config_yaml}"
  }

  assert {
    condition = alltrue([for k in ["host", "port", "name", "user", "sslMode", "maxOpenConns", "maxIdleConns", "connMaxLifetime", "connMaxIdleTime", "statementTimeout", "lockTimeout", "secretsFile", "usernameKey", "passwordKey"] :
    contains(keys(yamldecode(output.config_yaml).database), k)])
    error_message = "database section lacks a key: ${output.config_yaml}"
  }

  assert {
    condition     = alltrue([for k in ["addr", "dlqMaxLen", "secretsFile", "passwordKey"] : contains(keys(yamldecode(output.config_yaml).redis), k)])
    error_message = "redis section lacks a key: ${output.config_yaml}"
  }

  assert {
    condition     = yamldecode(output.config_yaml).database.connMaxLifetime == "5m" && yamldecode(output.config_yaml).database.connMaxIdleTime == "10m"
    error_message = "connMaxLifetime/connMaxIdleTime must default to 5m/10m"
  }

  assert {
    condition = (
      yamldecode(output.config_yaml).database.host == "postgres" &&
      yamldecode(output.config_yaml).database.port == 5432 &&
      yamldecode(output.config_yaml).database.name == "audit" &&
      yamldecode(output.config_yaml).database.user == "ds" &&
      yamldecode(output.config_yaml).database.sslMode == "disable" &&
      yamldecode(output.config_yaml).database.secretsFile == "/etc/datastorage/secrets/store-secrets.yaml" &&
      yamldecode(output.config_yaml).database.usernameKey == "db_username" &&
      yamldecode(output.config_yaml).database.passwordKey == "db_password"
    )
    error_message = "database section does not follow the inputs: ${output.config_yaml}"
  }

  assert {
    condition = (
      yamldecode(output.config_yaml).redis.addr == "redis:6379" &&
      yamldecode(output.config_yaml).redis.secretsFile == "/etc/datastorage/secrets/store-secrets.yaml" &&
      yamldecode(output.config_yaml).redis.passwordKey == "redis_password" &&
      yamldecode(output.config_yaml).auth.tokensFile == "/etc/datastorage/secrets/api-tokens.yaml"
    )
    error_message = "redis/auth sections do not follow the inputs: ${output.config_yaml}"
  }

  assert {
    condition = (
      yamldecode(output.config_yaml).server.port == 8080 &&
      yamldecode(output.config_yaml).server.healthPort == 8081 &&
      yamldecode(output.config_yaml).server.metricsPort == 9090 &&
      yamldecode(output.config_yaml).server.maxBatchSize == 500 &&
      yamldecode(output.config_yaml).logging.level == "info"
    )
    error_message = "server/logging sections are wrong: ${output.config_yaml}"
  }

  assert {
    condition = (
      yamldecode(output.config_yaml).startup.connectAttempts == 10 &&
      yamldecode(output.config_yaml).startup.connectInterval == "2s" &&
      yamldecode(output.config_yaml).dlq.retryInterval == "1s" &&
      yamldecode(output.config_yaml).dlq.maxRetries == 5
    )
    error_message = "startup/dlq sections are wrong: ${output.config_yaml}"
  }

  assert {
    condition     = !strcontains(output.config_yaml, "pgpw-7f3a") && !strcontains(output.config_yaml, "rdpw-9c1e") && !strcontains(output.config_yaml, "tok-1")
    error_message = "config.yaml must not hold a secret"
  }
}

run "secrets_files_are_rendered_and_read_only" {
  command = plan

  assert {
    condition     = nonsensitive(yamldecode(one([for u in docker_container.this.upload : u.content if u.file == "/etc/datastorage/secrets/store-secrets.yaml"]))) == { db_username = "ds", db_password = "pgpw-7f3a", redis_password = "rdpw-9c1e" }
    error_message = "store-secrets.yaml must hold the PostgreSQL username and password and the Redis password under the keys config.yaml names"
  }

  assert {
    condition     = nonsensitive(yamldecode(one([for u in docker_container.this.upload : u.content if u.file == "/etc/datastorage/secrets/api-tokens.yaml"]))) == { ci = "tok-1", gateway = "tok-2" }
    error_message = "api-tokens.yaml must map every name to its token"
  }

  assert {
    condition     = one([for u in docker_container.this.upload : u.permissions if u.file == "/etc/datastorage/config.yaml"]) == "0444"
    error_message = "config.yaml must be uploaded read-only (0444)"
  }

  assert {
    condition     = length(docker_container.this.upload) == 3
    error_message = "expected config.yaml and two secrets files (PostgreSQL and Redis in one, the API tokens apart)"
  }
}

run "secrets_files_owned_by_the_ds_user_when_asked" {
  command = plan

  variables {
    file_owner = "65534"
  }

  assert {
    condition     = alltrue([for u in docker_container.this.upload : u.permissions == "0400" && u.owner == "65534" if startswith(u.file, "/etc/datastorage/secrets/")])
    error_message = "with file_owner the secrets files must be 0400 and owned by it"
  }
}

run "secrets_files_read_only_by_default" {
  command = plan

  assert {
    condition     = alltrue([for u in docker_container.this.upload : u.permissions == "0444" && u.owner == null])
    error_message = "without file_owner every file must be root-owned 0444"
  }
}

run "container_settings" {
  command = plan

  assert {
    condition     = contains(docker_container.this.env, "CONFIG_PATH=/etc/datastorage/config.yaml")
    error_message = "CONFIG_PATH must point at the uploaded config"
  }

  assert {
    condition     = length([for e in docker_container.this.env : e if strcontains(nonsensitive(e), "pw-")]) == 0
    error_message = "no secret may be passed in the environment"
  }

  assert {
    condition     = docker_container.this.healthcheck[0].test == tolist(["CMD", "/datastorage", "healthcheck"]) && docker_container.this.healthcheck[0].interval == "200ms"
    error_message = "the healthcheck must run /datastorage healthcheck (exec form) every 200ms"
  }

  assert {
    condition     = docker_container.this.wait == true
    error_message = "the apply must wait for the DS to be healthy"
  }

  assert {
    condition     = [for p in docker_container.this.ports : p.internal] == [8080, 8081, 9090] && alltrue([for p in docker_container.this.ports : p.ip == "127.0.0.1"])
    error_message = "ports 8080, 8081, 9090 must be published on 127.0.0.1, in that order"
  }

  assert {
    condition     = one(docker_container.this.networks_advanced).name == "t-net" && contains(one(docker_container.this.networks_advanced).aliases, "datastorage")
    error_message = "the DS must join the network with alias datastorage"
  }

  assert {
    condition = alltrue([for k, v in { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1", "dsenv.trigger.migrate" = "abc" } :
    contains([for l in docker_container.this.labels : "${l.label}=${l.value}"], "${k}=${v}")])
    error_message = "labels (and trigger labels) missing on the DS container"
  }

  assert {
    condition     = length(docker_container.preflight) == 0
    error_message = "no preflight job without a preflight_command"
  }
}

run "wait_false_leaves_readiness_to_the_caller" {
  command = plan

  variables {
    wait = false
  }

  assert {
    condition     = docker_container.this.wait == false
    error_message = "wait = false must reach the container: the apply returns once it started"
  }

  assert {
    condition     = docker_container.this.healthcheck[0].test == tolist(["CMD", "/datastorage", "healthcheck"])
    error_message = "the healthcheck stays (docker ps, the caller's own wait)"
  }
}

run "inputs_change_the_config" {
  command = plan

  variables {
    log_level          = "DEBUG"
    connect_attempts   = 3
    connect_interval   = "100ms"
    dlq_retry_interval = "250ms"
    database_settings  = { max_open_conns = 50, conn_max_lifetime = "1h" }
    bind_address       = "0.0.0.0"
    host_port          = 18080
  }

  assert {
    condition = (
      yamldecode(output.config_yaml).logging.level == "debug" &&
      yamldecode(output.config_yaml).startup.connectAttempts == 3 &&
      yamldecode(output.config_yaml).startup.connectInterval == "100ms" &&
      yamldecode(output.config_yaml).dlq.retryInterval == "250ms" &&
      yamldecode(output.config_yaml).database.maxOpenConns == 50 &&
      yamldecode(output.config_yaml).database.connMaxLifetime == "1h" &&
      yamldecode(output.config_yaml).database.connMaxIdleTime == "10m"
    )
    error_message = "inputs not rendered: ${output.config_yaml}"
  }

  assert {
    condition     = docker_container.this.ports[0].external == 18080 && docker_container.this.ports[0].ip == "0.0.0.0"
    error_message = "a fixed host port and bind address must reach the published port"
  }

  assert {
    condition     = output.host == "127.0.0.1"
    error_message = "a wildcard bind address is reached on 127.0.0.1"
  }
}

run "preflight_job_runs_the_ds_startup_first" {
  command = plan

  variables {
    preflight_command = ["/datastorage", "preflight"]
    mounts            = [{ source = "/tmp/certs", target = "/etc/datastorage/certs" }]
  }

  assert {
    condition     = length(docker_container.preflight) == 1 && docker_container.preflight[0].entrypoint == tolist(["/datastorage"]) && docker_container.preflight[0].command == tolist(["preflight"])
    error_message = "the preflight job must run the preflight command"
  }

  assert {
    condition     = docker_container.preflight[0].attach == true && docker_container.preflight[0].must_run == false && docker_container.preflight[0].logs == true
    error_message = "the preflight job must run to completion inside the apply and keep its logs"
  }

  assert {
    condition     = [for u in docker_container.preflight[0].upload : u.file] == [for u in docker_container.this.upload : u.file]
    error_message = "the preflight job must get the same files as the DS"
  }

  assert {
    condition     = one(docker_container.this.mounts).target == "/etc/datastorage/certs" && one(docker_container.this.mounts).read_only == true
    error_message = "mounts must reach the DS read-only by default"
  }
}

# Issue 11: what the real DS needs. The kubeconfig and the signing pair are uploaded 0444,
# root-owned (readable by 65534 whatever file_owner says); KUBECONFIG and POD_NAMESPACE are set.
run "kubeconfig_namespace_and_signing_pair" {
  command = plan

  variables {
    file_owner      = "65534"
    kubeconfig      = "apiVersion: v1\nkind: Config\n"
    pod_namespace   = "dsenv"
    signer_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    signer_key_pem  = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
  }

  assert {
    condition     = contains(docker_container.this.env, "KUBECONFIG=/etc/datastorage/kubeconfig") && contains(docker_container.this.env, "POD_NAMESPACE=dsenv")
    error_message = "KUBECONFIG and POD_NAMESPACE must be set"
  }
  assert {
    condition = alltrue([for f in ["/etc/datastorage/kubeconfig", "/etc/datastorage/certs/tls.crt", "/etc/datastorage/certs/tls.key"] :
    one([for u in docker_container.this.upload : u.permissions == "0444" && u.owner == null if u.file == f])])
    error_message = "kubeconfig, tls.crt and tls.key must be uploaded root-owned 0444"
  }
  assert {
    condition     = nonsensitive(one([for u in docker_container.this.upload : u.content if u.file == "/etc/datastorage/certs/tls.key"])) == "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    error_message = "tls.key must hold signer_key_pem"
  }
}

run "no_healthcheck_for_an_image_without_a_probe" {
  command = plan

  variables {
    healthcheck_command = []
    wait                = false
  }

  assert {
    condition     = length(docker_container.this.healthcheck) == 0
    error_message = "healthcheck_command = [] must give no healthcheck"
  }
}

run "wait_without_healthcheck_is_refused" {
  command = plan

  variables {
    healthcheck_command = []
    wait                = true
  }

  expect_failures = [docker_container.this]
}

run "ec_signing_key_is_refused" {
  command = plan

  variables {
    signer_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    signer_key_pem  = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"
  }

  expect_failures = [var.signer_key_pem]
}
