# The Kubernetes auth stand-in (authstandin/): answers the DS's TokenReview and
# SubjectAccessReview calls from a tokens file uploaded into the container (0444, so the
# non-root server can read it). Tokens are never in the environment or the process arguments.
# It joins the environment's network as var.alias; nothing is published to the host unless
# var.publish is true (then on var.bind_address, a free port chosen by Docker).

locals {
  tokens_file = "/etc/authstandin/tokens.json"

  image_id = var.pull_image ? docker_image.this[0].image_id : data.docker_image.this[0].id

  api_username    = "system:serviceaccount:${var.namespace}:${var.api_service_account}"
  denied_username = "system:serviceaccount:${var.namespace}:${var.denied_service_account}"

  # JSON is YAML too; the stand-in reads either. Groups are left to the stand-in, which gives a
  # service account the API server's three (system:serviceaccounts[:<ns>], system:authenticated).
  tokens_json = jsonencode({
    namespace = var.namespace
    service   = var.service_name
    tokens = [
      { token = var.api_token, username = local.api_username, allow = true },
      { token = var.denied_token, username = local.denied_username, allow = false },
    ]
  })

  env = {
    AUTHSTANDIN_ADDR        = ":${var.port}"
    AUTHSTANDIN_TOKENS_FILE = local.tokens_file
    AUTHSTANDIN_LOG_LEVEL   = var.log_level
  }

  url = "http://${var.alias}:${var.port}"

  # What a DS needs to find the stand-in: over http the client sends no credentials, so no
  # users entry carries a secret.
  kubeconfig = yamlencode({
    apiVersion        = "v1"
    kind              = "Config"
    clusters          = [{ name = "dsenv", cluster = { server = local.url } }]
    users             = [{ name = "dsenv", user = {} }]
    contexts          = [{ name = "dsenv", context = { cluster = "dsenv", user = "dsenv", namespace = var.namespace } }]
    "current-context" = "dsenv"
  })
}

data "docker_image" "this" {
  count = var.pull_image ? 0 : 1
  name  = var.image
}

resource "docker_image" "this" {
  count        = var.pull_image ? 1 : 0
  name         = var.image
  keep_locally = true
}

resource "docker_container" "this" {
  name  = var.name
  image = local.image_id
  env   = [for k in sort(keys(local.env)) : "${k}=${local.env[k]}"]

  upload {
    file        = local.tokens_file
    content     = local.tokens_json
    permissions = "0444"
  }

  networks_advanced {
    name    = var.network_name
    aliases = [var.alias]
  }

  dynamic "ports" {
    for_each = var.publish ? [var.port] : []
    content {
      internal = ports.value
      ip       = var.bind_address
    }
  }

  # Only when the apply is to wait: the harness polls /readyz itself (a healthcheck is a docker
  # exec each interval, and Podman without systemd never runs one).
  dynamic "healthcheck" {
    for_each = var.wait ? [1] : []
    content {
      test         = ["CMD", "/authstandin", "healthcheck"]
      interval     = var.healthcheck_interval
      timeout      = "3s"
      retries      = 300
      start_period = "30s"
    }
  }

  wait                  = var.wait
  wait_timeout          = var.wait_timeout
  restart               = var.restart
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
    # MKNOD, NET_RAW), which would replace the container on every plan. The stand-in sets
    # no capabilities of its own.
    ignore_changes = [capabilities]

    precondition {
      condition     = var.api_token != var.denied_token
      error_message = "api_token and denied_token must differ: one token cannot be both allowed and denied."
    }
    precondition {
      condition     = var.api_service_account != var.denied_service_account
      error_message = "api_service_account and denied_service_account must differ: access is decided per identity."
    }
  }
}
