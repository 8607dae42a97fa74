package setup

import "fmt"

// kubeAPIServerVersion pins the kube-apiserver that `dsenv setup --with-kube` builds
// (kube/apiserver/go.mod.txt requires k8s.io/kubernetes at it and the staging modules at
// kubeStagingVersion; keep them equal).
const (
	kubeAPIServerVersion = "v1.37.2"
	kubeStagingVersion   = "v0.37.2"
)

// KubeAPIServerImage is the image of the real Kubernetes API server.
const KubeAPIServerImage = "dsenv/kube-apiserver:" + kubeAPIServerVersion

// kubeAPIServerBinary: cmd/kube-apiserver of k8s.io/kubernetes. Built with plain go build,
// it would report v0.0.0-master from /version: the -X flags stamp the version the way
// Kubernetes' own build does (hack/lib/version.sh).
func kubeAPIServerBinary() kubeBinary {
	var x string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		x += fmt.Sprintf(" -X %[1]s.gitVersion=%[2]s -X %[1]s.gitMajor=1 -X %[1]s.gitMinor=37 -X %[1]s.gitTreeState=clean", pkg, kubeAPIServerVersion)
	}
	return kubeBinary{
		name: "kube-apiserver", version: kubeAPIServerVersion, module: "kube/apiserver",
		pkg: "k8s.io/kubernetes/cmd/kube-apiserver", ldflag: x,
		ref: KubeAPIServerImage, first: "about 4-5 min and 3 GB of memory",
	}
}
