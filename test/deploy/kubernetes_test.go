package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mim-metrics/mim-metrics/observe"
)

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   struct {
		Name        string
		Labels      map[string]string
		Annotations map[string]string
	}
	Spec struct {
		Replicas *int
		Strategy struct{ Type string }
		Template struct {
			Metadata struct {
				Labels      map[string]string
				Annotations map[string]string
			}
			Spec k8sPodSpec
		}
	}
}

type k8sPodSpec struct {
	AutomountServiceAccountToken *bool  `yaml:"automountServiceAccountToken"`
	ServiceAccountName           string `yaml:"serviceAccountName"`
	Containers                   []k8sContainer
	InitContainers               []k8sContainer `yaml:"initContainers"`
	Volumes                      []struct {
		Name                  string
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	}
}

type k8sContainer struct {
	Name    string
	Image   string
	Command []string
	Args    []string
	Env     []struct {
		Name      string
		Value     string
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef *struct{ Name, Key string } `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	}
	Ports []struct {
		Name          string
		ContainerPort int `yaml:"containerPort"`
	}
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	SecurityContext struct {
		ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string
		Port string
	} `yaml:"httpGet"`
}

// chartNode is a node name as MongooseIM's Helm chart gives it (long
// names: <nodeName>@<pod>.<headless service>.<namespace>.svc.cluster.local,
// StatefulSet and service both named mongooseim).
var chartNode = regexp.MustCompile(`^mongooseim@mongooseim-\d+\.mongooseim\.\$\(POD_NAMESPACE\)\.svc\.cluster\.local$`)

// TestKubernetesManifest: deploy/kubernetes/mim-metrics.yaml parses, runs
// one sidecar as its own Deployment (not in MongooseIM's pods), with the
// chart's node names, the cookie from a Secret, the report file and state
// on a volume, the metrics port scraped and probed, and flags, variables,
// ports and paths the program accepts.
func TestKubernetesManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "kubernetes", "mim-metrics.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var objs []k8sObject
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the manifest does not parse: %v", err)
		}
		objs = append(objs, o)
	}
	var dep *k8sObject
	claims := map[string]bool{}
	for i, o := range objs {
		switch o.Kind {
		case "Deployment":
			if dep != nil {
				t.Error("more than one Deployment")
			}
			dep = &objs[i]
		case "PersistentVolumeClaim":
			claims[o.Metadata.Name] = true
		case "StatefulSet", "Pod", "DaemonSet":
			t.Errorf("the manifest has a %s: the sidecar runs as its own Deployment, never in MongooseIM's pods", o.Kind)
		case "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			t.Errorf("the manifest has a %s: the sidecar never talks to the Kubernetes API", o.Kind)
		}
	}
	if dep == nil {
		t.Fatal("no Deployment")
	}
	if dep.APIVersion != "apps/v1" {
		t.Errorf("Deployment apiVersion %q, want apps/v1", dep.APIVersion)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("replicas %v, strategy %q: want exactly one sidecar, Recreate (two would report every node twice)", dep.Spec.Replicas, dep.Spec.Strategy.Type)
	}
	pod := dep.Spec.Template
	if pod.Metadata.Labels["app"] == "mongooseim" {
		t.Error("the sidecar's pods carry MongooseIM's label app=mongooseim: the chart's services would send XMPP traffic to them")
	}
	if a := pod.Spec.AutomountServiceAccountToken; a == nil || *a || pod.Spec.ServiceAccountName != "" {
		t.Error("want automountServiceAccountToken: false and no service account")
	}
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) != 0 {
		t.Fatalf("%d containers, %d init containers: want the sidecar alone", len(pod.Spec.Containers), len(pod.Spec.InitContainers))
	}
	c := pod.Spec.Containers[0]
	if c.Image == "" || len(c.Command) != 0 {
		t.Errorf("image %q, command %v: want an image and its ENTRYPOINT", c.Image, c.Command)
	}

	// The environment: names the program knows, the cookie from a Secret,
	// the namespace for the node names.
	known := knownEnv(t)
	env := map[string]string{}
	var cookieSecret string
	namespaceFromPod := false
	for _, e := range c.Env {
		switch {
		case e.Name == "POD_NAMESPACE":
			namespaceFromPod = e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
			env[e.Name] = "chart-ns"
			continue
		case !known[e.Name]:
			t.Errorf("environment %s is not a mim-metrics setting", e.Name)
		}
		if e.Name == "MIM_METRICS_COOKIE" {
			if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Error("MIM_METRICS_COOKIE is not taken from a Secret")
			} else {
				cookieSecret = e.ValueFrom.SecretKeyRef.Name
			}
			env[e.Name] = "dummy-cookie"
			continue
		}
		if e.ValueFrom != nil {
			t.Errorf("%s: only the cookie comes from elsewhere", e.Name)
		}
		env[e.Name] = e.Value
	}
	for _, m := range regexp.MustCompile(`#\s*-?\s*name:\s*(MIM_METRICS_[A-Z_]+)`).FindAllStringSubmatch(string(raw), -1) {
		if !known[m[1]] {
			t.Errorf("commented example %s is not a mim-metrics setting", m[1])
		}
	}
	if cookieSecret == "" || !strings.Contains(string(raw), "create secret generic "+cookieSecret) {
		t.Errorf("the cookie Secret %q is not explained (kubectl create secret generic ...)", cookieSecret)
	}
	if !namespaceFromPod {
		t.Error("POD_NAMESPACE does not come from the pod's metadata.namespace")
	}
	for _, bad := range []string{"setcookie", "nodeCookie: "} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("the manifest holds a cookie itself (%s)", bad)
		}
	}

	// The command line: the chart's node names, accepted by the program
	// once Kubernetes has expanded $(POD_NAMESPACE).
	nodes := 0
	expanded := make([]string, len(c.Args))
	for i, a := range c.Args {
		if n, ok := strings.CutPrefix(a, "--node="); ok {
			nodes++
			if !chartNode.MatchString(n) {
				t.Errorf("--node %s is not a node name MongooseIM's chart gives (mongooseim@mongooseim-N.mongooseim.$(POD_NAMESPACE).svc.cluster.local)", n)
			}
		}
		expanded[i] = strings.ReplaceAll(a, "$(POD_NAMESPACE)", env["POD_NAMESPACE"])
	}
	if nodes == 0 || len(c.Args) == 0 || c.Args[0] != "run" {
		t.Errorf("args %v: want run and the chart's nodes", c.Args)
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	accepts(t, expanded, envList...)

	// The metrics port: listened on, declared, annotated and probed.
	listen := env["MIM_METRICS_METRICS_LISTEN"]
	_, port, ok := strings.Cut(listen, ":")
	if !ok || port == "" {
		t.Fatalf("MIM_METRICS_METRICS_LISTEN %q: want host:port", listen)
	}
	portNames := map[string]string{}
	for _, p := range c.Ports {
		portNames[p.Name] = strconv.Itoa(p.ContainerPort)
	}
	if portNames["metrics"] != port {
		t.Errorf("container port metrics %q, but the program listens on %s", portNames["metrics"], listen)
	}
	ann := pod.Metadata.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != observe.MetricsPath {
		t.Errorf("scrape annotations %v: want scrape true, port %s, path %s", ann, port, observe.MetricsPath)
	}
	for _, p := range []struct {
		name  string
		probe *k8sProbe
		path  string
	}{{"liveness", c.LivenessProbe, observe.HealthPath}, {"readiness", c.ReadinessProbe, observe.ReadyPath}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || portNames[p.probe.HTTPGet.Port] != port {
			t.Errorf("%s probe %+v: want GET %s on the metrics port", p.name, p.probe, p.path)
		}
	}

	// The report file and the state on the volume, which is a claim the
	// manifest makes.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	onVolume := func(path string) bool {
		for name, dir := range mounts {
			for _, v := range pod.Spec.Volumes {
				if v.Name == name && v.PersistentVolumeClaim != nil && claims[v.PersistentVolumeClaim.ClaimName] &&
					strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/") {
					return true
				}
			}
		}
		return false
	}
	for _, k := range []string{"MIM_METRICS_REPORT_FILE", "MIM_METRICS_STATE_DIR"} {
		if !onVolume(env[k]) {
			t.Errorf("%s=%q is not on a persistent volume the manifest claims (mounts %v)", k, env[k], mounts)
		}
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("the root filesystem is writable: everything the sidecar writes belongs on the volume")
	}
}
