"""The pieces of ``kiwishop image-check`` (``kiwishop_dev.image_check``): Podman as this machine can run it
(``podman``), a stand-in for the Dockerfile's base image made with debootstrap (``base``), and every service's
container against private servers (``containers``)."""
