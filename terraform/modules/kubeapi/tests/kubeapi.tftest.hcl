# Plan-time checks of the kubeapi module with a mocked provider (no Docker daemon).
# Run: terraform init && terraform test.

mock_provider "docker" {}

variables {
  name                    = "t-kube"
  network_name            = "t-net"
  ca_cert_pem             = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"
  tls_cert_pem            = "-----BEGIN CERTIFICATE-----\nserving\n-----END CERTIFICATE-----\n"
  tls_key_pem             = "-----BEGIN EC PRIVATE KEY-----\nservingkey-7f3a\n-----END EC PRIVATE KEY-----\n"
  service_account_key_pem = "-----BEGIN RSA PRIVATE KEY-----\nsakey-91bc\n-----END RSA PRIVATE KEY-----\n"
  admin_cert_pem          = "-----BEGIN CERTIFICATE-----\nadmin\n-----END CERTIFICATE-----\n"
  admin_key_pem           = "-----BEGIN EC PRIVATE KEY-----\nadminkey-44d0\n-----END EC PRIVATE KEY-----\n"
  server_cert_pem         = "-----BEGIN CERTIFICATE-----\nserver\n-----END CERTIFICATE-----\n"
  server_key_pem          = "-----BEGIN EC PRIVATE KEY-----\nserverkey-1e2f\n-----END EC PRIVATE KEY-----\n"
  labels                  = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
}

run "flags_as_in_production" {
  command = plan

  assert {
    condition = alltrue([for f in [
      "--authorization-mode=RBAC",
      "--disable-admission-plugins=ServiceAccount",
      "--endpoint-reconciler-type=none",
      "--etcd-servers=http://etcd:2379",
      "--client-ca-file=/etc/kubernetes/pki/ca.crt",
      "--service-account-key-file=/etc/kubernetes/pki/sa.key",
      "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
      "--service-account-issuer=https://kubernetes.default.svc",
      "--secure-port=6443",
      "--vmodule=rbac=5",
    ] : contains(docker_container.apiserver.command, f)])
    error_message = "kube-apiserver must run with RBAC, no ServiceAccount admission, no endpoint reconciler, the client CA and the service-account key"
  }

  assert {
    condition     = contains(docker_container.etcd.command, "--unsafe-no-fsync") && contains(keys(docker_container.etcd.tmpfs), "/data") && contains(docker_container.etcd.command, "--data-dir=/data/etcd")
    error_message = "etcd keeps its data on tmpfs and never fsyncs"
  }

  assert {
    condition     = alltrue([for u in docker_container.apiserver.upload : u.permissions == "0444" && startswith(u.file, "/etc/kubernetes/pki/")]) && length(docker_container.apiserver.upload) == 4
    error_message = "the CA, serving pair and service-account key are uploaded read-only under /etc/kubernetes/pki"
  }

  assert {
    condition     = !strcontains(join(" ", docker_container.apiserver.command), "sakey-91bc") && !strcontains(join(" ", docker_container.apiserver.command), "servingkey-7f3a")
    error_message = "keys must be files, never arguments"
  }

  assert {
    condition     = one(docker_container.apiserver.ports).internal == 6443 && one(docker_container.apiserver.ports).ip == "127.0.0.1" && contains(one(docker_container.apiserver.networks_advanced).aliases, "kube-api")
    error_message = "6443 published on 127.0.0.1, alias kube-api"
  }

  assert {
    condition     = length(docker_container.etcd.ports) == 0 && contains(one(docker_container.etcd.networks_advanced).aliases, "etcd")
    error_message = "etcd is reachable on the network only"
  }

  assert {
    condition     = yamldecode(nonsensitive(output.server_kubeconfig)).clusters[0].cluster.server == "https://kube-api:6443" && yamldecode(nonsensitive(output.server_kubeconfig)).users[0].user["client-certificate-data"] == base64encode("-----BEGIN CERTIFICATE-----\nserver\n-----END CERTIFICATE-----\n")
    error_message = "the DS's kubeconfig names the internal URL and carries its client certificate"
  }

  assert {
    condition     = output.internal_url == "https://kube-api:6443"
    error_message = "internal_url must be https://kube-api:6443"
  }

  assert {
    condition     = docker_container.etcd.name == "t-kube-etcd" && docker_container.apiserver.name == "t-kube-kube-apiserver"
    error_message = "containers are named <name>-etcd and <name>-kube-apiserver"
  }

  assert {
    condition     = docker_container.apiserver.labels == docker_container.etcd.labels && length(docker_container.etcd.labels) == 3
    error_message = "both containers carry the environment's labels (sweep and reaper find them)"
  }
}

run "extra_args_come_last" {
  command = plan

  variables {
    extra_args = ["--v=4", "--authorization-mode=AlwaysAllow"]
  }

  assert {
    condition     = slice(docker_container.apiserver.command, length(docker_container.apiserver.command) - 2, length(docker_container.apiserver.command)) == tolist(["--v=4", "--authorization-mode=AlwaysAllow"])
    error_message = "extra_args are appended after the module's flags (a later flag wins)"
  }
}

run "extra_args_must_be_flags" {
  command = plan

  variables {
    extra_args = ["v=4"]
  }

  expect_failures = [var.extra_args]
}

run "keys_must_be_pem" {
  command = plan

  variables {
    service_account_key_pem = "not a key"
  }

  expect_failures = [var.service_account_key_pem]
}

run "alias_must_be_a_dns_label" {
  command = plan

  variables {
    alias = "Kube_API"
  }

  expect_failures = [var.alias]
}
