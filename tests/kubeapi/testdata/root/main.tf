# A root with only the network and the real Kubernetes API: tests/kubeapi applies it to
# check the kubeapi module against real containers. The test copies it beside a copy of
# terraform/modules, hence the ../modules sources.

terraform {
  required_version = ">= 1.6"

  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 4.5"
    }
  }
}

variable "name" {
  type = string
}

variable "labels" {
  type = map(string)
}

variable "extra_args" {
  type    = list(string)
  default = []
}

variable "pki" {
  type      = map(string)
  sensitive = true
}

module "network" {
  source = "../modules/network"
  name   = "${var.name}-net"
  labels = var.labels
}

module "kubeapi" {
  source                  = "../modules/kubeapi"
  name                    = var.name
  network_name            = module.network.name
  labels                  = var.labels
  extra_args              = var.extra_args
  ca_cert_pem             = nonsensitive(var.pki["ca_cert_pem"])
  tls_cert_pem            = nonsensitive(var.pki["tls_cert_pem"])
  tls_key_pem             = var.pki["tls_key_pem"]
  service_account_key_pem = var.pki["service_account_key_pem"]
  admin_cert_pem          = nonsensitive(var.pki["admin_cert_pem"])
  admin_key_pem           = var.pki["admin_key_pem"]
  server_cert_pem         = nonsensitive(var.pki["server_cert_pem"])
  server_key_pem          = var.pki["server_key_pem"]
}

output "host_url" {
  value = module.kubeapi.host_url
}

output "internal_url" {
  value = module.kubeapi.internal_url
}

output "admin_kubeconfig" {
  value     = module.kubeapi.admin_kubeconfig
  sensitive = true
}

output "apiserver_container_name" {
  value = module.kubeapi.apiserver_container_name
}

output "etcd_container_name" {
  value = module.kubeapi.etcd_container_name
}
