"""The official Kubernetes Python client against a kapi apiserver: create, list, patch, watch.

Usage: python client_smoke.py <kubeconfig>. Exits non-zero with a message on any mismatch.
"""
import sys
import threading
import time

from kubernetes import client, config, watch


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    apps = client.AppsV1Api()

    names = [ns.metadata.name for ns in v1.list_namespace().items]
    assert "kube-system" in names, names

    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm", labels={"app": "py"}), data={"a": "1"})
    created = v1.create_namespaced_config_map("default", body)
    assert created.metadata.uid, created
    start_rv = created.metadata.resource_version

    # A watch from the create's resourceVersion sees the patch and the delete.
    seen = []
    done = threading.Event()

    def watcher():
        w = watch.Watch()
        for event in w.stream(v1.list_namespaced_config_map, "default", resource_version=start_rv,
                              label_selector="app=py", timeout_seconds=10):
            seen.append((event["type"], event["object"].metadata.name, (event["object"].data or {}).get("a")))
            if event["type"] == "DELETED":
                w.stop()
        done.set()

    t = threading.Thread(target=watcher)
    t.start()
    time.sleep(0.5)

    patched = v1.patch_namespaced_config_map("py-cm", "default", {"data": {"a": "2"}})
    assert patched.data["a"] == "2", patched.data
    listed = v1.list_namespaced_config_map("default", label_selector="app=py")
    assert [c.metadata.name for c in listed.items] == ["py-cm"], listed.items
    v1.delete_namespaced_config_map("py-cm", "default")
    done.wait(15)
    t.join(1)
    assert seen == [("MODIFIED", "py-cm", "2"), ("DELETED", "py-cm", "2")], seen

    # A Deployment: typed create, the scale subresource, strategic merge patch of containers.
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-dep"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "d"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "d"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
            ),
        ),
    )
    made = apps.create_namespaced_deployment("default", dep)
    assert made.spec.template.spec.containers[0].image == "nginx"
    assert made.metadata.generation == 1, made.metadata.generation
    apps.patch_namespaced_deployment_scale("py-dep", "default", {"spec": {"replicas": 3}})
    scale = apps.read_namespaced_deployment_scale("py-dep", "default")
    assert scale.spec.replicas == 3, scale
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}}
    after = apps.patch_namespaced_deployment("py-dep", "default", smp)
    assert [c.image for c in after.spec.template.spec.containers] == ["nginx:2"], after.spec.template.spec.containers
    assert after.metadata.generation == 3, after.metadata.generation

    try:
        v1.read_namespaced_config_map("py-cm", "default")
        raise AssertionError("py-cm should be gone")
    except client.exceptions.ApiException as e:
        assert e.status == 404, e
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
