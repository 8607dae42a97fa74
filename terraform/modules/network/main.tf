# One dedicated bridge network per environment. Containers join it with an alias
# (postgres, redis, datastorage) and talk to each other by that name, never via the host.
#
# Speed note: the docker provider's network Read begins with a fixed 2 s delay
# (networkReadRefreshDelay), after create and on every refresh, and removal waits 2 s more
# (networkRemoveRefreshDelay).
# A caller that cannot afford that can create the network itself and pass its name to the
# root module (variable network_name) instead of using this module.
resource "docker_network" "this" {
  name     = var.name
  driver   = "bridge"
  internal = var.internal

  dynamic "labels" {
    for_each = var.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    # Podman reads back ipam_options { driver = "host-local" }, which would replace the
    # network (and every container on it) on every plan.
    ignore_changes = [ipam_options]
  }
}
