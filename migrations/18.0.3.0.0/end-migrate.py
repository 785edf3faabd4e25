"""18.0.3.0.0, once every module is upgraded: who loses access with the User group.

Only Data Migration managers read sources, plans, runs and logs now; the User group, which
could read them, is removed right after this script. Run last, so that a group granted by
another module's upgrade counts; the administrator learns who to make a manager.
"""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT u.login
          FROM res_users u
          JOIN res_groups_users_rel r ON r.uid = u.id
          JOIN ir_model_data d ON d.res_id = r.gid AND d.model = 'res.groups'
         WHERE d.module = 'remote_data_migration' AND d.name = 'group_user' AND u.active
           AND NOT EXISTS (
               SELECT 1 FROM res_groups_users_rel m
                 JOIN ir_model_data md ON md.res_id = m.gid AND md.model = 'res.groups'
                WHERE m.uid = u.id AND md.module = 'remote_data_migration'
                  AND md.name = 'group_manager')
         ORDER BY u.login
        """
    )
    logins = [row[0] for row in cr.fetchall()]
    if logins:
        _logger.info(
            "remote_data_migration: %s users lose access to Data Migration with the User group"
            " (make them managers if they need it): %s",
            len(logins),
            ", ".join(logins),
        )
