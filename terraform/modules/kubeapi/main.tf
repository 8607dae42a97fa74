# The real Kubernetes API for the DS's authentication: etcd and kube-apiserver on the
# environment's network, RBAC on. Flags follow controller-runtime envtest's defaults, plus
# what a container on a bridge network needs (see README.md). All TLS material and the
# service-account signing key come in as variables, generated per environment by Go
# (internal/kubeapi): the docker provider is the only one dsenv's mirror has.

locals {
  pki_dir = "/etc/kubernetes/pki"

  etcd_name      = "${var.name}-etcd"
  apiserver_name = "${var.name}-kube-apiserver"
  etcd_url       = "http://${var.etcd_alias}:2379"

  etcd_image_id      = var.pull_image ? docker_image.etcd[0].image_id : data.docker_image.etcd[0].id
  apiserver_image_id = var.pull_image ? docker_image.apiserver[0].image_id : data.docker_image.apiserver[0].id

  apiserver_args = concat([
    "--etcd-servers=${local.etcd_url}",
    "--bind-address=0.0.0.0",
    "--secure-port=6443",
    # No Service or Endpoints for "kubernetes" is reconciled: with an advertise address of
    # 127.0.0.1 (nothing routable to probe for) the default reconciler exits at once.
    "--advertise-address=127.0.0.1",
    "--endpoint-reconciler-type=none",
    "--tls-cert-file=${local.pki_dir}/apiserver.crt",
    "--tls-private-key-file=${local.pki_dir}/apiserver.key",
    "--client-ca-file=${local.pki_dir}/ca.crt",
    "--service-account-issuer=${var.service_account_issuer}",
    "--service-account-key-file=${local.pki_dir}/sa.key",
    "--service-account-signing-key-file=${local.pki_dir}/sa.key",
    # The longest TokenRequest lifetime granted (internal/kubeapi.MaxTokenTTL): without it
    # there is no cap at all; a persistent environment asks for days (and re-mints on each
    # dsenv up), a test environment for 24 h.
    "--service-account-max-token-expiration=720h",
    "--authorization-mode=RBAC",
    # As envtest: no controller creates the default ServiceAccount, so the plugin would
    # refuse every Pod; the bootstrap creates the ServiceAccounts it needs.
    "--disable-admission-plugins=ServiceAccount",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    # RBAC's answer to "no rule matched" has no reason; at V(5) its file logs the user,
    # groups, verb and object that found no binding, one line per denial.
    "--vmodule=rbac=5",
  ], var.extra_args)
}

data "docker_image" "etcd" {
  count = var.pull_image ? 0 : 1
  name  = var.etcd_image
}

resource "docker_image" "etcd" {
  count        = var.pull_image ? 1 : 0
  name         = var.etcd_image
  keep_locally = true
}

data "docker_image" "apiserver" {
  count = var.pull_image ? 0 : 1
  name  = var.image
}

resource "docker_image" "apiserver" {
  count        = var.pull_image ? 1 : 0
  name         = var.image
  keep_locally = true
}

# etcd keeps its data in memory (tmpfs) and never fsyncs: a test environment's API state
# lives as long as the environment, and fsync is most of etcd's write latency.
resource "docker_container" "etcd" {
  name  = local.etcd_name
  image = local.etcd_image_id
  command = [
    "--name=default",
    "--data-dir=/data/etcd",
    "--listen-client-urls=http://0.0.0.0:2379",
    "--advertise-client-urls=${local.etcd_url}",
    "--listen-peer-urls=http://127.0.0.1:2380",
    "--initial-advertise-peer-urls=http://127.0.0.1:2380",
    "--initial-cluster=default=http://127.0.0.1:2380",
    "--unsafe-no-fsync",
    "--log-level=warn",
  ]

  tmpfs = {
    "/data" = "rw,mode=1777,size=${var.etcd_tmpfs_mb}m"
  }

  networks_advanced {
    name    = var.network_name
    aliases = [var.etcd_alias]
  }

  restart               = var.restart
  must_run              = true
  destroy_grace_seconds = 0

  dynamic "labels" {
    for_each = var.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    # Podman reads back its smaller default capability set as a drop list and the tmpfs
    # options normalised ("...,rprivate,nosuid,nodev,tmpcopyup"): either would replace
    # the container on every plan. A new tmpfs size still replaces it, through
    # terraform_data.etcd_tmpfs.
    ignore_changes       = [capabilities, tmpfs]
    replace_triggered_by = [terraform_data.etcd_tmpfs]
  }
}

resource "terraform_data" "etcd_tmpfs" {
  input = var.etcd_tmpfs_mb
}

# The image has no shell: readiness is kube-apiserver's /readyz, which the caller polls on
# the published port (it includes etcd). wait stays false for that reason.
resource "docker_container" "apiserver" {
  name    = local.apiserver_name
  image   = local.apiserver_image_id
  command = local.apiserver_args

  # 0444: kube-apiserver runs as uid 65534 and the files are uploaded as root. They exist
  # only inside this container, which nothing else can exec into (no shell).
  upload {
    file        = "${local.pki_dir}/ca.crt"
    content     = var.ca_cert_pem
    permissions = "0444"
  }

  upload {
    file        = "${local.pki_dir}/apiserver.crt"
    content     = var.tls_cert_pem
    permissions = "0444"
  }

  upload {
    file        = "${local.pki_dir}/apiserver.key"
    content     = var.tls_key_pem
    permissions = "0444"
  }

  upload {
    file        = "${local.pki_dir}/sa.key"
    content     = var.service_account_key_pem
    permissions = "0444"
  }

  networks_advanced {
    name    = var.network_name
    aliases = [var.alias]
  }

  ports {
    internal = 6443
    ip       = var.bind_address
    external = var.host_port == 0 ? null : var.host_port
  }

  restart               = var.restart
  must_run              = true
  destroy_grace_seconds = 0

  dynamic "labels" {
    for_each = var.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    # Podman reads back its smaller default capability set as a drop list (AUDIT_WRITE,
    # MKNOD, NET_RAW), which would replace the container on every plan. No capabilities
    # are set here.
    ignore_changes = [capabilities]
  }

  depends_on = [docker_container.etcd]
}
