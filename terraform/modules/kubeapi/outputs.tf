locals {
  host     = contains(["0.0.0.0", "::"], var.bind_address) ? "127.0.0.1" : var.bind_address
  url_host = strcontains(local.host, ":") ? "[${local.host}]" : local.host
  port     = docker_container.apiserver.ports[0].external
  host_url = "https://${local.url_host}:${local.port}"
}

output "internal_url" {
  description = "kube-apiserver's address on the environment's network (https://<alias>:6443)."
  value       = "https://${var.alias}:6443"
}

output "host_url" {
  description = "kube-apiserver's address from the host (https://127.0.0.1:<port>)."
  value       = local.host_url
}

output "port" {
  description = "Host-side port of kube-apiserver (the one Docker picked when host_port is 0)."
  value       = local.port
}

output "ca_cert_pem" {
  description = "CA certificate to verify kube-apiserver's serving certificate with."
  value       = var.ca_cert_pem
}

output "admin_kubeconfig" {
  description = "Kubeconfig (YAML) for host_url as the admin identity (system:masters): for tests that create their own ServiceAccounts and bindings."
  sensitive   = true
  value = yamlencode({
    apiVersion = "v1"
    kind       = "Config"
    clusters = [{
      name    = var.name
      cluster = { server = local.host_url, "certificate-authority-data" = base64encode(var.ca_cert_pem) }
    }]
    users = [{
      name = "admin"
      user = {
        "client-certificate-data" = base64encode(var.admin_cert_pem)
        "client-key-data"         = base64encode(var.admin_key_pem)
      }
    }]
    contexts          = [{ name = var.name, context = { cluster = var.name, user = "admin" } }]
    "current-context" = var.name
  })
}

output "server_kubeconfig" {
  description = "Kubeconfig (YAML) for internal_url as the DS's own identity (its ServiceAccount's user name, by client certificate): mount it in the DS and set KUBECONFIG. It exists before kube-apiserver does, unlike a token."
  sensitive   = true
  value = yamlencode({
    apiVersion = "v1"
    kind       = "Config"
    clusters = [{
      name    = var.name
      cluster = { server = "https://${var.alias}:6443", "certificate-authority-data" = base64encode(var.ca_cert_pem) }
    }]
    users = [{
      name = "data-storage"
      user = {
        "client-certificate-data" = base64encode(var.server_cert_pem)
        "client-key-data"         = base64encode(var.server_key_pem)
      }
    }]
    contexts          = [{ name = var.name, context = { cluster = var.name, user = "data-storage" } }]
    "current-context" = var.name
  })
}

output "apiserver_container_name" {
  description = "Name of the kube-apiserver container."
  value       = docker_container.apiserver.name
}

output "etcd_container_name" {
  description = "Name of the etcd container."
  value       = docker_container.etcd.name
}

output "apiserver_container_id" {
  description = "ID of the kube-apiserver container."
  value       = docker_container.apiserver.id
}

output "etcd_container_id" {
  description = "ID of the etcd container."
  value       = docker_container.etcd.id
}
