# Plan-time checks of the auth stand-in module with a mocked provider (no Docker daemon).
# Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name         = "t-kube-auth"
  network_name = "t-net"
  api_token    = "apitoken-0123456789abcdef"
  denied_token = "denytoken-0123456789abcdef"
  labels       = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
}

run "tokens_file_uploaded_read_only" {
  command = plan

  assert {
    condition     = one(docker_container.this.upload).file == "/etc/authstandin/tokens.json" && one(docker_container.this.upload).permissions == "0444"
    error_message = "the tokens file must land at /etc/authstandin/tokens.json, 0444 (the server runs as 65534; uploads are root's)"
  }

  assert {
    condition = jsondecode(nonsensitive(one(docker_container.this.upload).content)) == {
      namespace = "dsenv"
      service   = "data-storage-service"
      tokens = [
        { token = "apitoken-0123456789abcdef", username = "system:serviceaccount:dsenv:gateway", allow = true },
        { token = "denytoken-0123456789abcdef", username = "system:serviceaccount:dsenv:denied", allow = false },
      ]
    }
    error_message = "the tokens file must grant the API token and deny the second one"
  }

  assert {
    condition     = !strcontains(join(" ", docker_container.this.env), "apitoken-") && !strcontains(join(" ", docker_container.this.env), "denytoken-")
    error_message = "tokens must never be in the environment"
  }

  assert {
    condition     = contains(docker_container.this.env, "AUTHSTANDIN_TOKENS_FILE=/etc/authstandin/tokens.json") && contains(docker_container.this.env, "AUTHSTANDIN_ADDR=:8080")
    error_message = "the stand-in must be told where the file is and what to listen on"
  }

  assert {
    condition     = contains(one(docker_container.this.networks_advanced).aliases, "kube-auth") && output.url == "http://kube-auth:8080"
    error_message = "alias kube-auth, url http://kube-auth:8080"
  }

  assert {
    condition     = length(docker_container.this.ports) == 0 && output.host_url == null
    error_message = "nothing is published by default"
  }

  assert {
    condition     = length(docker_container.this.healthcheck) == 0 && docker_container.this.wait == false
    error_message = "no healthcheck and no wait by default: the harness polls /readyz"
  }

  assert {
    condition     = yamldecode(output.kubeconfig)["current-context"] == "dsenv" && yamldecode(output.kubeconfig).clusters[0].cluster.server == "http://kube-auth:8080"
    error_message = "the kubeconfig must point its current context at the stand-in"
  }

  assert {
    condition     = output.namespace == "dsenv" && output.api_username == "system:serviceaccount:dsenv:gateway" && output.denied_username == "system:serviceaccount:dsenv:denied"
    error_message = "identities follow the namespace"
  }

  assert {
    condition     = docker_container.this.labels == toset([for k, v in var.labels : { label = k, value = v }])
    error_message = "the container carries the environment's labels"
  }
}

run "custom_namespace_port_and_identity" {
  command = plan

  variables {
    namespace           = "kubernaut-system"
    port                = 9443
    alias               = "kubernetes"
    api_service_account = "signalprocessing"
    service_name        = "datastorage"
  }

  assert {
    condition     = jsondecode(nonsensitive(one(docker_container.this.upload).content)).tokens[0].username == "system:serviceaccount:kubernaut-system:signalprocessing"
    error_message = "the API identity must be system:serviceaccount:<namespace>:<api_service_account>"
  }

  assert {
    condition     = jsondecode(nonsensitive(one(docker_container.this.upload).content)).service == "datastorage" && output.url == "http://kubernetes:9443"
    error_message = "service name and port must reach the file and the url"
  }
}

run "published_and_waited_for" {
  command = plan

  variables {
    publish = true
    wait    = true
  }

  assert {
    condition     = one(docker_container.this.ports).internal == 8080 && one(docker_container.this.ports).ip == "127.0.0.1"
    error_message = "published on 127.0.0.1 with no fixed host port"
  }

  assert {
    condition     = docker_container.this.healthcheck[0].test == tolist(["CMD", "/authstandin", "healthcheck"]) && docker_container.this.wait
    error_message = "wait = true uses the binary's own healthcheck"
  }
}

run "same_token_twice" {
  command = plan
  variables {
    denied_token = "apitoken-0123456789abcdef"
  }
  expect_failures = [docker_container.this]
}

run "same_identity_twice" {
  command = plan
  variables {
    denied_service_account = "gateway"
  }
  expect_failures = [docker_container.this]
}

run "short_token" {
  command = plan
  variables {
    api_token = "short"
  }
  expect_failures = [var.api_token]
}

run "token_with_space" {
  command = plan
  variables {
    denied_token = "denytoken 0123456789abcdef"
  }
  expect_failures = [var.denied_token]
}

run "bad_namespace" {
  command = plan
  variables {
    namespace = "DSenv_1"
  }
  expect_failures = [var.namespace]
}

run "privileged_port" {
  command = plan
  variables {
    port = 443
  }
  expect_failures = [var.port]
}

run "bad_alias" {
  command = plan
  variables {
    alias = "Kube_Auth"
  }
  expect_failures = [var.alias]
}

run "bad_log_level" {
  command = plan
  variables {
    log_level = "verbose"
  }
  expect_failures = [var.log_level]
}

run "bad_bind_address" {
  command = plan
  variables {
    bind_address = "localhost"
  }
  expect_failures = [var.bind_address]
}
