"""HTTP plumbing shared by every feature: errors, request ids, health, images, dependencies."""
