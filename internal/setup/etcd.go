package setup

// etcdVersion pins the etcd that `dsenv setup --with-kube` builds (kube/etcd/go.mod.txt
// requires it; keep the two equal).
const etcdVersion = "v3.7.3"

// EtcdImage is the image of etcd, the store behind kube-apiserver.
const EtcdImage = "dsenv/etcd:" + etcdVersion

// etcdBinary: the module root of go.etcd.io/etcd/server/v3 is etcd's main package, so a
// module of ours that requires it builds it (that module's own replace lines do not apply
// to us; its go.sum here is complete without them).
func etcdBinary() kubeBinary {
	return kubeBinary{
		name: "etcd", version: etcdVersion, module: "kube/etcd",
		pkg: "go.etcd.io/etcd/server/v3",
		ref: EtcdImage, first: "about 40 s (4-5 min on a busy machine)",
	}
}
