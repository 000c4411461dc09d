"""podlab: live Kubernetes labs about what a container in a pod can see."""
