"""The domain. Services take a database session and never import Reflex or FastAPI."""
