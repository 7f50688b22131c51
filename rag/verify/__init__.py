"""Cite and verify: markers to exact spans (`cite`), and the one claim judge (`judge`) that
checks our answers' claims (`answers`) and 核稿's."""
