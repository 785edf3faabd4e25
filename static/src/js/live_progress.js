/** @odoo-module **/
// A run's progress that follows the run: the page reloads the record when the run saves its
// progress (the server notifies through the bus) and, should a notification be missed,
// every two seconds while the run is queued or running.
import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { ProgressBarField, progressBarField } from "@web/views/fields/progress_bar/progress_bar_field";

const NOTIFICATION = "remote_data_migration.run_progress";
const POLL_MS = 2000;

export class LiveProgressField extends ProgressBarField {
    setup() {
        super.setup();
        this.bus = useService("bus_service");
        this.onNotification = (payload) => {
            if (!payload || payload.run_id === this.props.record.resId) {
                this.reload();
            }
        };
        onMounted(() => {
            this.bus.subscribe(NOTIFICATION, this.onNotification);
            this.timer = setInterval(() => this.live && this.reload(), POLL_MS);
        });
        onWillUnmount(() => {
            this.bus.unsubscribe(NOTIFICATION, this.onNotification);
            clearInterval(this.timer);
        });
    }

    get live() {
        const state = this.props.record.data.state;
        return state === "running" || (state === "draft" && this.props.record.data.queued);
    }

    async reload() {
        if (this.loading || this.props.record.dirty) {
            return;
        }
        this.loading = true;
        try {
            await this.props.record.load();
        } finally {
            this.loading = false;
        }
    }
}

registry.category("fields").add("rdm_live_progress", {
    ...progressBarField,
    component: LiveProgressField,
});
