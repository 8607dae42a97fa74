package tfharness

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dsenv/dsenv/internal/tfbin"
	dsterraform "github.com/dsenv/dsenv/terraform"
)

func TestIncludeFileCopiesSourcesNeverStateOrSecrets(t *testing.T) {
	tests := map[string]bool{
		"env/main.tf":                            true,
		"env/override.tf.json":                   true,
		"modules/ds/templates/config.yaml.tftpl": true,
		"modules/ds/templates/raw.yaml":          true,
		"env/tests/validation.tftest.hcl":        true,
		"env/terraform.tfstate":                  false,
		"env/terraform.tfstate.backup":           false,
		"env/dsenv.auto.tfvars":                  false,
		"env/secrets.auto.tfvars.json":           false,
		"env/prod.tfvars":                        false,
		"env/.terraform.lock.hcl":                false,
		"env/.terraform/providers/x":             false,
		"env/.tfdata/modules/modules.json":       false,
		"env/plan.tfplan":                        false,
		"env/README.md":                          false,
		"env/.hidden/main.tf":                    false,
	}
	for p, want := range tests {
		if got := includeFile(p); got != want {
			t.Errorf("includeFile(%q) = %v; want %v", p, got, want)
		}
	}
}

func TestLoadTreeHashesContentAndSkipsTerraformDirs(t *testing.T) {
	fsys := fstest.MapFS{
		"env/main.tf":                 {Data: []byte(`variable "network_name" {}`)},
		"env/terraform.tfstate":       {Data: []byte(`{"secret":1}`)},
		"env/.terraform/modules/x.tf": {Data: []byte(`x`)},
		"modules/a/main.tf":           {Data: []byte(`a`)},
	}
	tr, err := loadTree(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.files) != 2 {
		t.Fatalf("files = %v; want env/main.tf and modules/a/main.tf", tr.files)
	}
	tmpl := &template{tree: tr, root: "env"}
	if !tmpl.declares("network_name") || tmpl.declares("name_prefix") {
		t.Error("declares() wrong")
	}
	fsys["modules/a/main.tf"] = &fstest.MapFile{Data: []byte(`b`)}
	tr2, err := loadTree(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if tr2.hash == tr.hash {
		t.Error("hash does not change with content")
	}
}

func TestEmbeddedTreeHoldsTheRootModuleAndNoState(t *testing.T) {
	tr, err := loadTree(dsterraform.FS)
	if err != nil {
		t.Fatal(err)
	}
	var haveRoot, haveTemplates bool
	for _, f := range tr.files {
		haveRoot = haveRoot || f.path == "env/main.tf"
		haveTemplates = haveTemplates || strings.Contains(f.path, "/templates/")
		if !includeFile(f.path) {
			t.Errorf("embedded %s", f.path)
		}
	}
	if !haveRoot || !haveTemplates {
		t.Errorf("embedded tree lacks env/main.tf or templates: %d files", len(tr.files))
	}
}

func TestTerraformEnvKeepsPathAndHomeAndDropsUserTerraformSettings(t *testing.T) {
	t.Setenv("TF_CLI_CONFIG_FILE", "/nonexistent/.terraformrc")
	t.Setenv("TF_VAR_postgres_password", "from-user")
	t.Setenv("TF_CLI_ARGS_apply", "-parallelism=1")
	t.Setenv("TF_DATA_DIR", "/elsewhere")
	t.Setenv("TF_LOG", "TRACE")
	env := tfbin.Env(map[string]string{"TF_CLI_CONFIG_FILE": "/ours", "TF_DATA_DIR": "/data"})
	if env["PATH"] != os.Getenv("PATH") || env["HOME"] != os.Getenv("HOME") {
		t.Error("PATH or HOME lost")
	}
	if env["TF_CLI_CONFIG_FILE"] != "/ours" || env["TF_DATA_DIR"] != "/data" || env["CHECKPOINT_DISABLE"] != "1" {
		t.Errorf("ours not set: %v %v", env["TF_CLI_CONFIG_FILE"], env["TF_DATA_DIR"])
	}
	for _, k := range []string{"TF_VAR_postgres_password", "TF_CLI_ARGS_apply", "TF_LOG"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s passed through", k)
		}
	}
}
