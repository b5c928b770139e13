from rllib_embed.embed_pg.embed_pg import EmbedPG
from rllib_embed.embed_pg.embed_pg_config import EmbedPGConfig

__all__ = ["EmbedPG", "EmbedPGConfig"]
